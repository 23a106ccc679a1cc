import { functionLogFilter } from '../../local/function-log';

/** npm start's function log lines: quiet by default (only runs that did something), everything with --verbose. */
describe("npm start's function log filter", () => {
  const line = (fields: Record<string, unknown>) => JSON.stringify({ time: '2026-12-02T04:00:00.000Z', level: 'info', ...fields });
  function run(lines: [string, string][], verbose = false): string[] {
    const shown: string[] = [];
    const filter = functionLogFilter((text) => shown.push(text), { verbose });
    const sinks = new Map<string, (text: string) => void>();
    for (const [name, text] of lines) {
      if (!sinks.has(name)) sinks.set(name, filter(name));
      sinks.get(name)!(text);
    }
    return shown;
  }

  const idleTick = (id: string) => line({ message: 'watcher run finished', requestId: id, inflight: 0, checked: 0, changed: 0, settled: 0 });
  const poll = line({ message: 'http request', requestId: 'h1', route: 'GET /jobs/{jobId}', status: 200 });

  it('drops the runs that did nothing: idle watcher ticks and the page polling a job', () => {
    expect(
      run([
        ['job-watcher', idleTick('w1')],
        ['job-watcher', idleTick('w2')],
        ['http-submit', poll],
      ]),
    ).toEqual([]);
  });

  it('shows a run that did something, its earlier lines first and in order, then the rest as it comes', () => {
    // Arrange
    const lines: [string, string][] = [
      ['oss-submit', line({ message: 'image mode found', requestId: 'o1' })],
      ['job-watcher', idleTick('w1')],
      ['oss-submit', line({ message: 'job submitted', requestId: 'o1', jobId: 'j1' })],
      ['oss-submit', line({ message: 'invocation finished', requestId: 'o1', submitted: 1 })],
    ];

    // Act
    const shown = run(lines);

    // Assert
    expect(shown).toEqual([`  [oss-submit] ${lines[0]![1]}\n`, `  [oss-submit] ${lines[2]![1]}\n`, `  [oss-submit] ${lines[3]![1]}\n`]);
  });

  it('shows a settling watcher run, a failure, a refusal (warn) and POST /jobs; a line without a request id always', () => {
    // Arrange
    const settled = line({ message: 'job settled', requestId: 'w3', jobId: 'j1', status: 'Finished' });
    const failed = line({ level: 'error', message: 'item failed', requestId: 'o2' });
    const refused = line({ level: 'warn', message: 'http request', requestId: 'h2', route: 'GET /usage', status: 401 });
    const posted = line({ message: 'http request', requestId: 'h3', route: 'POST /jobs', status: 202 });
    const instance = line({ level: 'warn', message: 'HTTP_AUTH=none' });

    // Act
    const shown = run([
      ['job-watcher', settled],
      ['oss-submit', failed],
      ['http-submit', refused],
      ['http-submit', posted],
      ['http-submit', instance],
    ]);

    // Assert
    expect(shown).toHaveLength(5);
  });

  it('shows every line with --verbose', () => {
    expect(
      run(
        [
          ['job-watcher', idleTick('w1')],
          ['http-submit', poll],
        ],
        true,
      ),
    ).toEqual([`  [job-watcher] ${idleTick('w1')}\n`, `  [http-submit] ${poll}\n`]);
  });
});
