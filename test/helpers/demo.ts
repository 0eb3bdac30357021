import { spawn } from 'node:child_process';
import { onTestFinished } from 'vitest';

/**
 * Runs `tributary demo <args>` to its end; resolves with its exit code and its stdout and stderr
 * interleaved. A demo still running when the test ends (a timeout, a failed assertion) is killed:
 * an orphaned demo would go on taking the CPU of the tests after it.
 */
export async function runDemo(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['bin/tributary.js', 'demo', ...args], { env: { ...process.env, LOG_LEVEL: 'error' }, stdio: ['ignore', 'pipe', 'pipe'] });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  return { code, out };
}
