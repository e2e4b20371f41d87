/**
 * Sending with dcmtk `storescu -v` and reading, per file, whether the SCP ACKed it: the log
 * prints "Sending file: <path>" before each C-STORE and "Received Store Response (<status>)"
 * after it; a file counts as ACKed only when its response says Success or Warning.
 */
import { spawn } from 'node:child_process';

export interface SendResult {
  /** Files whose C-STORE got a success (or warning) response. */
  acked: string[];
  /** storescu's exit code (non-zero when an association failed or a store was refused). */
  exitCode: number | null;
}

/** Parse storescu -v output into the files it saw ACKed. */
export function parseStorescuLog(log: string): string[] {
  const acked: string[] = [];
  let current: string | null = null;
  for (const line of log.split('\n')) {
    const sending = /Sending file: (.+)$/.exec(line);
    if (sending) {
      current = sending[1]!.trim();
      continue;
    }
    const response = /Received Store Response \(([^)]*)/.exec(line);
    if (response && current) {
      if (/^(Success|Warning)/i.test(response[1]!)) acked.push(current);
      current = null;
    }
  }
  return acked;
}

/** Send `files` over one association; never throws for a refused store or a dead peer. */
export async function storescu(port: number, files: string[], timeoutMs = 120_000): Promise<SendResult> {
  if (files.length === 0) return { acked: [], exitCode: 0 };
  const child = spawn('storescu', ['-v', '-aet', 'CHAOS_SCU', '-aec', 'LDH_TRIAGE', '-to', '20', '-ta', '20', '-td', '20', '127.0.0.1', String(port), ...files], {
    env: { PATH: process.env.PATH, TCP_NODELAY: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exitCode = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  clearTimeout(timer);
  return { acked: parseStorescuLog(log), exitCode };
}
