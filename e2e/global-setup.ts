import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Builds the packages and the demo's front end (with its service worker) once for the run. */
export default function globalSetup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
}
