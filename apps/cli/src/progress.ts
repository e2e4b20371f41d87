import cliProgress from 'cli-progress';

/** A progress bar on stderr (stdout stays clean for --json and pipes). */
export function createProgressBar(label: string, total: number) {
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {value}/{total} {percentage}% | {eta_value}s left`, stream: process.stderr, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return bar;
}
