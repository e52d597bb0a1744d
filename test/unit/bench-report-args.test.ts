import { BENCH_DEFAULTS, parseBenchArgs } from '../../bench/bench-args';
import { median, percentile } from '../../bench/bench-stats';

// `npm run bench`'s command line: defaults, both flag forms, and every refusal as a message with a hint.

describe('parseBenchArgs', () => {
  it('gives the defaults without arguments: 60 clusters, 5 rounds, target 10, lab base 190', () => {
    const r = parseBenchArgs([]);
    expect(r).toEqual({ ok: true, help: false, args: BENCH_DEFAULTS });
    expect(BENCH_DEFAULTS).toMatchObject({ clusters: 60, rounds: 5, target: 10, base: 190 });
  });

  it('reads every flag, as `--flag value` and as `--flag=value`', () => {
    const r = parseBenchArgs([
      '--rounds',
      '3',
      '--clusters=12',
      '--target',
      '7.5',
      '--base=200',
      '--lab-dir',
      '/var/tmp/other-lab',
      '--keep-lab',
      '--results=/tmp/out',
      '--concurrency',
      '16',
    ]);
    expect(r).toEqual({
      ok: true,
      help: false,
      args: {
        rounds: 3,
        clusters: 12,
        target: 7.5,
        base: 200,
        labDir: '/var/tmp/other-lab',
        keepLab: true,
        resultsDir: '/tmp/out',
        concurrency: 16,
      },
    });
  });

  it('asks for the usage with --help or -h', () => {
    expect(parseBenchArgs(['--help'])).toMatchObject({ ok: true, help: true });
    expect(parseBenchArgs(['-h', '--rounds', '2'])).toMatchObject({
      ok: true,
      help: true,
      args: { rounds: 2 },
    });
  });

  it.each([
    [['--rounds'], '--rounds needs a value'],
    [['--rounds', '0'], '--rounds must be between 1 and 50, got 0'],
    [['--rounds', '2.5'], '--rounds must be a whole number, got "2.5"'],
    [['--clusters', '501'], '--clusters must be between 1 and 500, got 501'],
    [['--clusters', '-3'], '--clusters must be a whole number, got "-3"'],
    [['--base', '251'], '--base must be between 2 and 250, got 251'],
    [['--target', 'ten'], '--target must be a number, got "ten"'],
    [['--concurrency', '0'], '--concurrency must be between 1 and 500, got 0'],
    [['--lab-dir', 'relative/dir'], '--lab-dir must be an absolute path, got "relative/dir"'],
    [['--results='], '--results needs a path'],
    [['--keep-lab=yes'], '--keep-lab takes no value'],
    [['--round', '3'], 'unknown argument "--round"'],
    [['60'], 'unknown argument "60"'],
  ])('refuses %j: %s', (argv, message) => {
    expect(parseBenchArgs(argv)).toEqual({ ok: false, message, hint: 'npm run bench -- --help' });
  });
});

describe('the bench statistics', () => {
  it('takes nearest-rank percentiles (with 5 rounds p90 is the slowest) and the middle as median', () => {
    const rounds = [40, 10, 30, 50, 20];
    expect(percentile(rounds, 90)).toBe(50);
    expect(percentile(rounds, 50)).toBe(30);
    expect(median(rounds)).toBe(30);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(percentile([], 90)).toBeNaN();
  });
});
