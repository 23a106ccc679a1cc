/**
 * What the local ICE endpoint accepts, so it can disagree with us the way the real one may: the form of the image in
 * `LoadImage.1.TargetImage` (LOCAL_ICE_ACCEPTS) and which actions the caller's role may call (LOCAL_ICE_FORBIDDEN_ACTIONS).
 * Both can change while the server runs (setAccepts / setForbiddenActions, POST /__local/settings).
 *
 * Sources:
 * - [FACTS]   docs/platform-facts.md, "ICE Yike AI app jobs": every documented example of LoadImage.1.TargetImage is a
 *             media id (PrecheckYikeAIAppJob reference, ice-20201109 SDK models); which form ICE really takes is unknown
 *             until it is asked (PrecheckYikeAIAppJob).
 * - [RAM]     docs/platform-facts.md, "Errors": a RAM denial is usually HTTP 403 `Forbidden.RAM` (ICE's own code unverified).
 * Local assumptions: a refused form fails the precheck with ImageCheckFailed and a submit with InvalidParameter; the
 * denial's message is the common OpenAPI one.
 */
import { IceApiError, invalidParameter } from './answers';

/** `yike-asset` (LOCAL_ICE_ACCEPTS' default, as the documented examples), `media-id`, `url` (public, signed or CDN URLs) or `any`. */
const ACCEPTED_FORMS = ['yike-asset', 'media-id', 'url', 'any'] as const;
export type AcceptedForm = (typeof ACCEPTED_FORMS)[number];
/** What the local cloud (npm start, the bench) runs with unless LOCAL_ICE_ACCEPTS says otherwise. */
const DEFAULT_ACCEPTED_FORM: AcceptedForm = 'yike-asset';
/**
 * What a server started from code takes unless told: any form, so a test of something else (signatures, job states,
 * faults) is not also a test of the image form. Tests of the form say which one ICE takes.
 */
const UNSPECIFIED_ACCEPTED_FORM: AcceptedForm = 'any';

/** The form of an image reference: a URL, an id of one of the two media libraries, or an id neither knows. */
export type ReferenceForm = 'url' | 'yike-asset' | 'media-id' | 'unknown-id';

export interface ReferenceRegistries {
  isYikeAsset(id: string): boolean;
  isMediaLibraryId(id: string): boolean;
}

const HTTP_FORBIDDEN = 403;
const FORBIDDEN_RAM = 'Forbidden.RAM';

export function parseAcceptedForm(value: string | undefined, name = 'LOCAL_ICE_ACCEPTS'): AcceptedForm {
  if (value === undefined || value === '') return DEFAULT_ACCEPTED_FORM;
  if ((ACCEPTED_FORMS as readonly string[]).includes(value)) return value as AcceptedForm;
  throw new TypeError(`${name} must be one of ${ACCEPTED_FORMS.join(', ')}, got "${value}"`);
}

/** LOCAL_ICE_FORBIDDEN_ACTIONS: comma-separated ICE actions the role may not call, e.g. "GetYikeAIAppJob,PrecheckYikeAIAppJob". */
export function parseActionList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((action) => action.trim())
    .filter(Boolean);
}

export function referenceForm(reference: string, registries: ReferenceRegistries): ReferenceForm {
  if (reference.includes('://')) return 'url';
  if (registries.isYikeAsset(reference)) return 'yike-asset';
  if (registries.isMediaLibraryId(reference)) return 'media-id';
  return 'unknown-id';
}

export interface IceAcceptance {
  accepted(): AcceptedForm;
  setAccepts(form: AcceptedForm): void;
  /** Whether a reference of this form is taken (an id neither library knows never is). */
  takes(form: ReferenceForm): boolean;
  /** The submit's refusal of a reference in a form this ICE does not take. */
  submitRefusal(imageKey: string, form: ReferenceForm): IceApiError;
  forbiddenActions(): string[];
  setForbiddenActions(actions: readonly string[]): void;
  /** Throws the RAM denial when the role may not call `action`. */
  authorize(action: string): void;
  /** Back to the options the server started with. */
  reset(): void;
}

export function createIceAcceptance(options: { accepts?: AcceptedForm; forbiddenActions?: readonly string[] } = {}): IceAcceptance {
  const initial = { accepts: options.accepts ?? UNSPECIFIED_ACCEPTED_FORM, forbidden: [...(options.forbiddenActions ?? [])] };
  let accepts = initial.accepts;
  let forbidden = new Set(initial.forbidden);
  return {
    accepted: () => accepts,
    setAccepts(form) {
      accepts = parseAcceptedForm(form, 'accepts');
    },
    takes: (form) => form !== 'unknown-id' && (accepts === 'any' || accepts === form),
    submitRefusal: (imageKey, form) =>
      invalidParameter('AppParams', `"${imageKey}" holds a ${form === 'url' ? 'URL' : form}, which this app does not take (local ICE accepts ${accepts}).`),
    forbiddenActions: () => [...forbidden],
    setForbiddenActions(actions) {
      forbidden = new Set(actions);
    },
    authorize(action) {
      if (!forbidden.has(action)) return;
      throw new IceApiError(
        HTTP_FORBIDDEN,
        FORBIDDEN_RAM,
        `User not authorized to operate on the specified resource (ice:${action}), or this API doesn't support RAM.`,
      );
    },
    reset() {
      accepts = initial.accepts;
      forbidden = new Set(initial.forbidden);
    },
  };
}
