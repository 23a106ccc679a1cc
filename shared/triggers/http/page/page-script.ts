/**
 * The page's script (browser JavaScript, inlined into the page and allowed by its hash in the CSP). Plain ES2020, no
 * framework: token → GET /apps → POST /uploads → PostObject to OSS → GET /jobs/by-object → GET /jobs/{id}?wait=20.
 * Kept free of `${` and backticks: it lives in a template string.
 */
export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var TOKEN_KEY = 'yike-token';
  var STEPS = ['uploading', 'submitted', 'queued', 'executing', 'finished'];
  var STEP_OF_STATUS = { Submitted: 'submitted', Created: 'submitted', Queuing: 'queued', Executing: 'executing', Finished: 'finished' };
  var FIND_JOB_MS = 120000;
  /** A Finished job's own copy (RESULT_COPY) is usually there within seconds; after this the page plays ICE's URL. */
  var COPY_WAIT_MS = 60000;
  var $ = function (id) { return document.getElementById(id); };
  var state = { token: sessionStorage.getItem(TOKEN_KEY) || '', busy: false, limits: null };

  function fail(code, message) { var error = new Error(message); error.code = code; return error; }
  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }
  function clock(iso) { var d = iso ? new Date(iso) : new Date(); return isNaN(d.getTime()) ? '' : d.toLocaleTimeString(); }
  function megabytes(bytes) { return (bytes / 1048576).toFixed(bytes < 1048576 ? 2 : 0) + ' MB'; }

  /** Plain words for the codes the API answers with; the code itself is shown too. */
  function describe(error) {
    var code = error.code || 'ERROR';
    var words = {
      UNAUTHORIZED: 'The access token was not accepted. Check it and connect again.',
      AUTH_NOT_CONFIGURED: 'This service has no access tokens configured yet (AUTH_TOKENS), so it accepts nothing.',
      NOT_AN_IMAGE: 'That file is not an image this service takes.',
      IMAGE_TOO_LARGE: 'That image is too large.',
      IMAGE_NOT_ALLOWED: 'That image is not on this service\'s allowlist.',
      IMAGE_KEY_INVALID: 'That image name is not allowed.',
      APP_NOT_UPLOADABLE: 'That app is not set up for uploads here.',
      UNKNOWN_APP: 'That app is not known here.',
      UPLOADS_NOT_CONFIGURED: 'Uploads are not configured on this service (UPLOAD_BUCKET).',
      PRECHECK_FAILED: 'ICE refused the image before making anything (no charge).',
      IMAGE_BLOCKED: 'ICE\'s content audit blocked the image.',
      JOB_FAILED: 'ICE could not make the video.',
      JOB_TIMED_OUT: 'The job did not finish in time.',
      UPLOAD_REFUSED: 'The bucket refused the upload.',
      BUDGET_EXHAUSTED: 'Today\'s budget of jobs is spent.',
      QUOTA_EXHAUSTED: 'This access token has no jobs left today.',
      CORS_BLOCKED: 'The browser blocked the bucket\'s answer: the bucket has no CORS rule for this page.',
      NETWORK: 'The service could not be reached.'
    }[code];
    var detail = error.message && error.message !== words ? ' ' + error.message : '';
    return (words || 'Something went wrong.') + detail + ' (' + code + ')';
  }

  async function api(method, path, body) {
    var headers = { Authorization: 'Bearer ' + state.token };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    var response;
    try {
      response = await fetch(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    } catch (e) {
      throw fail('NETWORK', '');
    }
    var data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      var err = (data && data.error) || {};
      var error = fail(err.code || 'HTTP_' + response.status, err.message || '');
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function showError(error) {
    var box = $('error');
    box.textContent = describe(error);
    box.hidden = false;
    document.body.dataset.state = 'error';
  }

  function clearError() { $('error').hidden = true; $('error').textContent = ''; }

  /** A problem of the deployment that did not stop this job (it stays up while the job goes on). */
  function showNotice(error) { $('notice').textContent = describe(error); $('notice').hidden = false; }

  /** Marks the steps before this step done and it current (or failed); pending: reached but not yet timed. */
  function setStep(step, time, failed, pending) {
    var index = STEPS.indexOf(step);
    var items = $('timeline').children;
    for (var i = 0; i < items.length; i++) {
      var item = items[i];
      var name = item.dataset.step;
      var at = STEPS.indexOf(name);
      if (at < index && !item.classList.contains('done')) {
        item.classList.add('done');
        item.classList.remove('current');
        // A status the job passed between two polls: ICE keeps no time for it.
        var passed = item.querySelector('time');
        if (!passed.textContent) { passed.textContent = '—'; passed.title = 'passed between two status reads'; }
      }
      if (at === index) {
        item.classList.remove('current');
        item.classList.add(failed ? 'failed' : step === 'finished' ? 'done' : 'current');
        if (failed) item.classList.remove('done');
        var stamp = item.querySelector('time');
        if (!stamp.textContent && !pending) stamp.textContent = clock(time);
      }
    }
    document.body.dataset.step = step;
  }

  function resetJob() {
    clearError();
    $('notice').hidden = true;
    $('job').hidden = false;
    $('result').hidden = true;
    $('video').removeAttribute('src');
    $('job-id').textContent = '';
    var items = $('timeline').children;
    for (var i = 0; i < items.length; i++) { items[i].className = ''; items[i].querySelector('time').textContent = ''; }
    document.body.dataset.state = 'working';
  }

  /** "N jobs left today", or plainly that the day's budget (or this token's quota) is spent; hidden without limits. */
  function showUsage(usage) {
    var left = usage.limit === null ? null : usage.remaining;
    var what = 'budget';
    (usage.tokens || []).forEach(function (token) {
      var tokenLeft = Math.max(0, token.limit - token.used);
      if (left === null || tokenLeft < left) { left = tokenLeft; what = 'quota'; }
    });
    var box = $('usage');
    if (left === null) { box.hidden = true; delete document.body.dataset.budget; return; }
    var renews = clock(usage.resetsAt);
    if (left > 0) box.textContent = left + (left === 1 ? ' job' : ' jobs') + ' left today.';
    else if (what === 'quota') box.textContent = 'This access token has used all its jobs for today. It gets new ones at ' + renews + '.';
    else box.textContent = 'Today\'s budget is spent: a photo dropped now waits, and is submitted first when the budget renews at ' + renews + '.';
    box.hidden = false;
    document.body.dataset.budget = left > 0 ? 'left' : 'spent';
  }

  /** GET /usage; a deployment without it (or without limits) shows nothing. */
  async function refreshUsage() {
    try { showUsage(await api('GET', 'usage')); } catch (error) { $('usage').hidden = true; }
  }

  async function connect() {
    state.token = $('token').value.trim();
    $('auth-status').textContent = '';
    if (!state.token) { $('auth-status').textContent = 'Enter an access token first.'; return; }
    sessionStorage.setItem(TOKEN_KEY, state.token);
    try {
      var data = await api('GET', 'apps');
      var select = $('app');
      select.textContent = '';
      data.apps.forEach(function (app) {
        var option = document.createElement('option');
        option.value = app.name;
        option.textContent = app.name === app.appId ? app.appId : app.name + ' (' + app.appId + ')';
        option.title = app.description;
        select.appendChild(option);
      });
      state.limits = data;
      $('limits').textContent = 'One image: ' + data.imageSuffixes.join(', ') + ', at most ' + megabytes(data.maxImageBytes) + '.';
      $('auth-status').textContent = 'Connected.';
      $('try').hidden = false;
      await refreshUsage();
      if (data.apps.length === 0) $('auth-status').textContent = 'Connected, but no app is set up for uploads (APP_ROUTES).';
    } catch (error) {
      $('try').hidden = true;
      $('auth-status').textContent = describe(error);
    }
  }

  /** The job the upload trigger submitted for the object (it may take a moment to appear). */
  async function findJob(upload) {
    var deadline = Date.now() + FIND_JOB_MS;
    var query = 'jobs/by-object?bucket=' + encodeURIComponent(upload.bucket) + '&key=' + encodeURIComponent(upload.key);
    while (Date.now() < deadline) {
      try {
        var record = await api('GET', query);
        if ((record.status === 'COMPLETED' && record.jobId) || record.status === 'DEFERRED') return record;
        if (record.status !== 'IN_PROGRESS') throw fail((record.error && record.error.code) || record.status, (record.error && record.error.message) || '');
      } catch (error) {
        if (error.code !== 'JOB_NOT_FOUND' && error.code !== 'NETWORK' && !(error.status >= 500)) throw error;
      }
      await sleep(1000);
    }
    throw fail('JOB_NOT_FOUND', 'No job was submitted for the upload within ' + FIND_JOB_MS / 1000 + ' s.');
  }

  async function followJob(jobId) {
    var failures = 0;
    for (;;) {
      var view;
      try {
        view = await api('GET', 'jobs/' + encodeURIComponent(jobId) + '?wait=20');
        failures = 0;
      } catch (error) {
        if (!(error.code === 'NETWORK' || error.status >= 500) || ++failures > 5) throw error;
        await sleep(3000);
        continue;
      }
      if (view.executionStartTime) setStep('executing', view.executionStartTime);
      var step = STEP_OF_STATUS[view.status];
      if (step) setStep(step, step === 'finished' ? view.executionFinishTime : undefined);
      if (view.terminal) return view;
    }
  }

  /** While the watcher copies the output into the bucket, GET /jobs/{id} says copy: "pending"; then it has a playUrl. */
  async function withCopy(view) {
    var deadline = Date.now() + COPY_WAIT_MS;
    while (!view.playUrl && view.copy === 'pending' && Date.now() < deadline) {
      await sleep(1000);
      try { view = await api('GET', 'jobs/' + encodeURIComponent(view.jobId)); } catch (error) { if (!(error.code === 'NETWORK' || error.status >= 500)) throw error; }
    }
    return view;
  }

  function showVideo(view) {
    var result = (view.results || []).filter(function (r) { return r.outputUrl && /^https?:\/\//.test(r.outputUrl); })[0];
    var url = view.playUrl || (result && result.outputUrl);
    if (!url) { showError(fail('JOB_FAILED', 'The job finished without an output URL.')); return; }
    $('video').src = url;
    $('video-link').href = url;
    $('video-link').textContent = view.playUrl ? 'your copy' + (view.playUrlExpiresAt ? ' (link valid until ' + new Date(view.playUrlExpiresAt).toLocaleTimeString() + ')' : '') : url;
    $('result').hidden = false;
    document.body.dataset.state = 'finished';
  }

  /** Posts the form OSS signed for us, then the file (last, as PostObject requires). */
  async function postToBucket(upload, file) {
    var form = new FormData();
    Object.keys(upload.fields).forEach(function (name) { form.append(name, upload.fields[name]); });
    form.append('file', file);
    var response;
    try {
      response = await fetch(upload.url, { method: 'POST', body: form, mode: 'cors', credentials: 'omit' });
    } catch (e) {
      // Without a CORS rule the upload itself may have worked: the browser only hides OSS's answer. Follow it anyway.
      return fail('CORS_BLOCKED', 'Add the CORS rule from docs/page.md to the bucket. Looking for the job anyway...');
    }
    if (!response.ok) {
      var text = await response.text();
      var code = /<Code>([^<]*)<\/Code>/.exec(text);
      var message = /<Message>([^<]*)<\/Message>/.exec(text);
      throw fail('UPLOAD_REFUSED', (code ? code[1] + ': ' : '') + (message ? message[1] : 'HTTP ' + response.status));
    }
    return null;
  }

  async function run(file) {
    if (state.busy) return;
    state.busy = true;
    resetJob();
    try {
      setStep('uploading');
      var upload = await api('POST', 'uploads', { app: $('app').value, fileName: file.name, contentType: file.type || 'application/octet-stream', size: file.size });
      $('job-id').textContent = 'Object ' + upload.bucket + '/' + upload.key;
      var warning = await postToBucket(upload, file);
      if (warning) showNotice(warning);
      setStep('submitted', undefined, false, true);
      var record = await findJob(upload);
      if (record.status === 'DEFERRED') {
        // Kept, not lost: the budget's renewal submits it, oldest first, when the day's budget renews.
        var resetsAt = record.error && record.error.details && record.error.details.resetsAt;
        var renews = resetsAt ? clock(resetsAt) : '';
        $('notice').textContent = 'Waiting for the budget: the image is kept and is submitted when the budget renews' + (renews ? ' at ' + renews : '') + '. Nothing is charged until then.';
        $('notice').hidden = false;
        document.body.dataset.state = 'deferred';
        return;
      }
      setStep('submitted', record.startedAt);
      $('job-id').textContent = 'JobId ' + record.jobId + ' (' + record.appId + ')';
      var view = await followJob(record.jobId);
      if (view.status === 'Finished') { setStep('finished', view.executionFinishTime); showVideo(await withCopy(view)); }
      else {
        setStep(STEP_OF_STATUS[view.status] || 'finished', view.updatedAt, true);
        throw fail((view.error && view.error.code) || (view.status === 'TimedOut' ? 'JOB_TIMED_OUT' : 'JOB_FAILED'), (view.error && view.error.message) || '');
      }
    } catch (error) {
      var current = document.body.dataset.step || 'uploading';
      setStep(current, undefined, true, true);
      showError(error);
    } finally {
      state.busy = false;
      $('file').value = '';
      refreshUsage();
    }
  }

  function pick(files) { if (files && files.length > 0) run(files[0]); }

  $('token').value = state.token;
  $('connect').addEventListener('click', connect);
  $('token').addEventListener('keydown', function (event) { if (event.key === 'Enter') connect(); });
  $('file').addEventListener('change', function () { pick($('file').files); });
  var drop = $('drop');
  ['dragenter', 'dragover'].forEach(function (type) {
    drop.addEventListener(type, function (event) { event.preventDefault(); drop.classList.add('over'); });
  });
  ['dragleave', 'drop'].forEach(function (type) {
    drop.addEventListener(type, function (event) { event.preventDefault(); drop.classList.remove('over'); });
  });
  drop.addEventListener('drop', function (event) { pick(event.dataTransfer && event.dataTransfer.files); });
  if (state.token) connect();
})();
`;
