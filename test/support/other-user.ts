/**
 * Another local user, for the tests that show a socket keeps others out: a Node one-liner run as `nobody`
 * (setpriv, which needs root, as the tests have).
 */
import { execFile } from 'node:child_process';

/**
 * Connects to `path` as the user nobody. Without `line`: 'CONNECTED', or the connect error's code (EACCES).
 * With `line`: sends it (a newline is added) and gives back everything the other end wrote before it closed.
 */
export function asNobody(path: string, line?: string): Promise<string> {
  const connect = `const s=require('net').connect(${JSON.stringify(path)});s.on('error',e=>{console.log(e.code);process.exit(0)});`;
  const script =
    line === undefined
      ? `${connect}s.on('connect',()=>{console.log('CONNECTED');process.exit(0)})`
      : `${connect}s.write(${JSON.stringify(`${line}\n`)});let b='';s.on('data',d=>b+=d);s.on('close',()=>{console.log(b.trim());process.exit(0)})`;
  return new Promise((resolve) => {
    execFile(
      'setpriv',
      ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '-e', script],
      (_error, stdout, stderr) => resolve((stdout + stderr).trim()),
    );
  });
}
