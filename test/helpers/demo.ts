import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { onTestFinished } from 'vitest';

/**
 * What a demo may take: about 25 s of CPU from the sources through tsx (measured: 22 s user and
 * 3 s system for `demo --messages 2`), which was 27 s of wall time at load 3 and 80–87 s at load 9 on the 2-core CI
 * machine. The limit follows the work, not the 90 s that load alone exceeded.
 */
export const DEMO_TIMEOUT_MS = 180_000;

/** CPU time of a live process in ms, from /proc (utime + stime, in clock ticks of 10 ms on Linux). */
function cpuMsOf(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

/**
 * Runs `tributary demo <args>` to its end; resolves with its exit code, its stdout and stderr
 * interleaved, and the CPU time it used (sampled every 100 ms until it exits, so at most that much
 * short): what a claim about its speed can be checked on, as wall time depends on the machine's load.
 * A demo still running when the test ends (a timeout, a failed assertion) is killed: an orphaned
 * demo would go on taking the CPU of the tests after it.
 */
export async function runDemo(args: string[]): Promise<{ code: number | null; out: string; cpuMs: number }> {
  const child = spawn(process.execPath, ['bin/tributary.js', 'demo', ...args], { env: { ...process.env, LOG_LEVEL: 'error' }, stdio: ['ignore', 'pipe', 'pipe'] });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let cpuMs = 0;
  const sampler = setInterval(() => (cpuMs = (child.pid && cpuMsOf(child.pid)) || cpuMs), 100);
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', resolve);
    });
    return { code, out, cpuMs };
  } finally {
    clearInterval(sampler);
  }
}
