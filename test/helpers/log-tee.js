// Jest setupFiles: every JSON log line a test file produces (functions' stdout logger, stand-ins, logCapture
// sinks) is also appended to a per-run folder that secrets-reporter.js scans when the run ends.
const { openSync, writeSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.env.YIKE_TEST_LOG_DIR;
let fd;

function teeLogLine(text) {
  if (!dir) return;
  if (fd === undefined) fd = openSync(join(dir, `worker-${process.pid}.log`), 'a');
  writeSync(fd, text.endsWith('\n') ? text : `${text}\n`);
}

/** Only lines that are JSON objects are log lines; jest's own progress output is not. */
function teeJsonLines(chunk) {
  const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '';
  for (const line of text.split('\n')) if (line.trimStart().startsWith('{')) teeLogLine(line);
}

if (dir && !process.stdout.__yikeTee) {
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    stream.write = (chunk, ...rest) => {
      teeJsonLines(chunk);
      return write(chunk, ...rest);
    };
    stream.__yikeTee = true;
  }
}
globalThis.__yikeTeeLogLine = teeLogLine;

module.exports = { teeLogLine };
