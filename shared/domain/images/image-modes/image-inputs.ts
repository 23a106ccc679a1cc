import type { ImageForm, ImageUrlMode } from '../../../runtime/env';
import { IceError, YikeError } from '../../../runtime/errors';
import type { Logger } from '../../../runtime/logger';
import { buildAppParams, type YikeApp } from '../../jobs/apps';
import { assertPrecheckPassed, precheckErrorCodes, precheckRefused } from '../../jobs/precheck';
import type { Ice } from '../../ports';
import type { ImageReferenceBuilder, ImageSource } from '../image-reference';
import type { ImageModeFinding, ImageModeFindings, ImageModeTrial } from './findings';

/**
 * A job's AppParams: its image in the form ICE takes, prechecked. With a fixed IMAGE_URL_MODE that is one reference
 * and (PRECHECK=on) one precheck. With `auto`:
 * - no finding yet for the app: the forms are tried in CANDIDATE order, each built for the job's own image and
 *   prechecked (free), and the first ICE accepts is the finding (findings.ts), written create-only;
 * - a finding: the job uses its form, prechecked when PRECHECK=on (off: not at all, so a job costs what its form costs);
 * - the found form refused for an image: the other forms are tried for that image; one that passes replaces the
 *   finding (warn log with both results); if every form refuses, PRECHECK_FAILED with each form's codes.
 * Assets and media registered while trying are kept (yike-asset records, ICE's media library) and reused.
 */
export interface ImageInputs {
  appParamsFor(app: YikeApp, image: ImageSource, target: ReferenceTarget): Promise<string>;
  /** The same steps with the precheck always on, for the doctor: what happened, never a PRECHECK_FAILED. */
  inspect(app: YikeApp, image: ImageSource, target?: ReferenceTarget): Promise<ImageInputReport>;
}

type ReferenceTarget = { productionId?: string; folderId?: string };

interface ImageInputReport {
  appId: string;
  image: string;
  configured: ImageUrlMode;
  outcome: 'passed' | 'refused';
  /** configured: the fixed mode; finding: the stored finding held; discovered / replaced: a finding was written now. */
  via: 'configured' | 'finding' | 'discovered' | 'replaced';
  /** The form used (absent when every form was refused). */
  mode?: ImageForm;
  /** The finding before this job, when it no longer held. */
  previous?: { mode: ImageForm; decidedAt: string };
  tried: ImageModeTrial[];
}

/** The order `auto` tries the forms in (cdn only when CDN_BASE_URL is set). */
const CANDIDATE_FORMS: readonly ImageForm[] = ['yike-asset', 'media-id', 'public', 'signed', 'cdn'];

export function candidateForms(cdnConfigured: boolean): ImageForm[] {
  return CANDIDATE_FORMS.filter((form) => form !== 'cdn' || cdnConfigured);
}

export interface ImageInputsDependencies {
  mode: ImageUrlMode;
  precheck: boolean;
  /** ICE_REGION: findings are per region. */
  region: string;
  candidates: readonly ImageForm[];
  images: ImageReferenceBuilder;
  ice: Pick<Ice, 'precheckYikeAIAppJob'>;
  /** The findings kept beside the records of an image's bucket (RECORDS_BUCKET, else that bucket). */
  findings: (imageBucket: string) => ImageModeFindings;
  logger?: Logger;
  now?: () => Date;
}

type Resolved = { appParams: string; report: ImageInputReport } | { appParams?: undefined; report: ImageInputReport };

export function createImageInputs(deps: ImageInputsDependencies): ImageInputs {
  const now = deps.now ?? (() => new Date());

  /** One form for this image: its AppParams and the precheck's verdict, or why the reference could not be made. */
  const attempt = async (app: YikeApp, image: ImageSource, form: ImageForm, target: ReferenceTarget) => {
    let appParams: string;
    try {
      appParams = buildAppParams(app, await deps.images.reference(image, form, target, now()));
    } catch (error) {
      if (!isFormRefusal(error)) throw error;
      return { passed: false, trial: { mode: form, status: 'Error', errorCodes: [error.code] } };
    }
    const answer = await deps.ice.precheckYikeAIAppJob({ appId: app.appId, appParams });
    return { passed: !precheckRefused(answer), appParams, trial: { mode: form, status: answer.status, errorCodes: precheckErrorCodes(answer) } };
  };

  const firstPassing = async (app: YikeApp, image: ImageSource, forms: readonly ImageForm[], target: ReferenceTarget, tried: ImageModeTrial[]) => {
    for (const form of forms) {
      const outcome = await attempt(app, image, form, target);
      tried.push(outcome.trial);
      if (outcome.passed) return { form, appParams: outcome.appParams! };
    }
    return undefined;
  };

  const fixed = async (app: YikeApp, image: ImageSource, target: ReferenceTarget, precheck: boolean, forJob: boolean): Promise<Resolved> => {
    // A URL source is sent as it is; its form is not ours to choose.
    const form: ImageForm = deps.mode === 'auto' ? 'public' : deps.mode;
    const appParams = buildAppParams(app, await deps.images.reference(image, form, target, now()));
    const base = { appId: app.appId, image: describe(image), configured: deps.mode, via: 'configured' as const, tried: [] };
    if (!precheck) return { appParams, report: { ...base, outcome: 'passed' } };
    const answer = await deps.ice.precheckYikeAIAppJob({ appId: app.appId, appParams });
    const trial = { mode: form, status: answer.status, errorCodes: precheckErrorCodes(answer) };
    if (precheckRefused(answer)) {
      // A job's refusal is the precheck's own PRECHECK_FAILED, listing each {key, errorCode}.
      if (forJob) assertPrecheckPassed(answer);
      return { report: { ...base, outcome: 'refused', mode: form, tried: [trial] } };
    }
    return { appParams, report: { ...base, outcome: 'passed', mode: form, tried: [trial] } };
  };

  const auto = async (app: YikeApp, image: ImageSource & { kind: 'oss' }, target: ReferenceTarget, precheck: boolean): Promise<Resolved> => {
    const findings = deps.findings(image.bucket);
    const source = describe(image);
    const base = { appId: app.appId, image: source, configured: deps.mode };
    const existing = await readFinding(findings, app);
    const held = existing && existing.region === deps.region && deps.candidates.includes(existing.mode) ? existing : undefined;
    const tried: ImageModeTrial[] = [];

    if (held) {
      if (!precheck) {
        const appParams = buildAppParams(app, await deps.images.reference(image, held.mode, target, now()));
        return { appParams, report: { ...base, outcome: 'passed', via: 'finding', mode: held.mode, tried } };
      }
      const first = await attempt(app, image, held.mode, target);
      tried.push(first.trial);
      if (first.passed) return { appParams: first.appParams!, report: { ...base, outcome: 'passed', via: 'finding', mode: held.mode, tried } };
      const previous = { mode: held.mode, decidedAt: held.decidedAt };
      const found = await firstPassing(
        app,
        image,
        deps.candidates.filter((form) => form !== held.mode),
        target,
        tried,
      );
      if (!found) return { report: { ...base, outcome: 'refused', via: 'finding', previous, tried } };
      await keepFinding(() => findings.replace(finding(app, found.form, source, tried)), app);
      deps.logger?.warn('image mode finding replaced: ICE refused the image in the found form and accepts another', {
        appId: app.appId,
        image: source,
        was: { ...first.trial, decidedAt: held.decidedAt },
        now: tried[tried.length - 1],
      });
      return { appParams: found.appParams, report: { ...base, outcome: 'passed', via: 'replaced', mode: found.form, previous, tried } };
    }

    const found = await firstPassing(app, image, deps.candidates, target, tried);
    if (!found) return { report: { ...base, outcome: 'refused', via: 'discovered', tried } };
    const discovered = finding(app, found.form, source, tried);
    // A finding from another region (or for a form no longer configured) is replaced; otherwise the first one wins.
    const stored = await keepFinding(async () => {
      if (!existing) return findings.create(discovered);
      await findings.replace(discovered);
      return discovered;
    }, app);
    deps.logger?.info('image mode found', { appId: app.appId, image: source, mode: found.form, stored: stored?.mode, tried });
    return { appParams: found.appParams, report: { ...base, outcome: 'passed', via: 'discovered', mode: found.form, tried } };
  };

  const finding = (app: YikeApp, mode: ImageForm, image: string, tried: ImageModeTrial[]): ImageModeFinding => ({
    schemaVersion: 1,
    appId: app.appId,
    mode,
    region: deps.region,
    decidedAt: now().toISOString(),
    image,
    tried: [...tried],
  });

  /** A finding that cannot be read is logged and the discovery runs (free calls): the job is not held up by it. */
  const readFinding = async (findings: ImageModeFindings, app: YikeApp): Promise<ImageModeFinding | undefined> => {
    try {
      return await findings.get(app.appId);
    } catch (error) {
      deps.logger?.error('image mode finding could not be read; finding the form again', { appId: app.appId, error: (error as Error).message });
      return undefined;
    }
  };

  /** The job has a form that passed: a finding that cannot be written is logged, and only costs a discovery later. */
  const keepFinding = async <T>(write: () => Promise<T>, app: YikeApp): Promise<T | undefined> => {
    try {
      return await write();
    } catch (error) {
      deps.logger?.error('image mode finding could not be written', { appId: app.appId, error: (error as Error).message });
      return undefined;
    }
  };

  const resolve = (app: YikeApp, image: ImageSource, target: ReferenceTarget, precheck: boolean, forJob: boolean): Promise<Resolved> =>
    deps.mode === 'auto' && image.kind === 'oss' ? auto(app, image, target, precheck) : fixed(app, image, target, precheck, forJob);

  return {
    async appParamsFor(app, image, target) {
      const resolved = await resolve(app, image, target, deps.precheck, true);
      if (resolved.appParams !== undefined) return resolved.appParams;
      throw refusedInEveryForm(resolved.report);
    },
    async inspect(app, image, target = {}) {
      return (await resolve(app, image, target, true, false)).report;
    },
  };
}

/** ICE refused to make the reference (a registration refused, a permission missing): that form cannot be used. */
function isFormRefusal(error: unknown): error is IceError {
  return error instanceof IceError && error.outcome === 'rejected' && !error.retryable;
}

function describe(image: ImageSource): string {
  return image.kind === 'oss' ? `oss://${image.bucket}/${image.key}` : image.url;
}

/** PRECHECK_FAILED (422, not retryable, so the upload is recorded REJECTED) with each form's codes in details. */
function refusedInEveryForm(report: ImageInputReport): YikeError {
  const listed = report.tried.map((trial) => `${trial.mode}: ${[trial.status, ...trial.errorCodes].join(' ')}`).join('; ');
  const scope = report.configured === 'auto' && report.tried.length > 1 ? 'in every form' : `as ${report.mode ?? report.tried[0]?.mode}`;
  return new YikeError('PRECHECK_FAILED', `ICE's precheck refused ${report.image} ${scope} (${listed})`, { statusCode: 422, details: report.tried });
}
