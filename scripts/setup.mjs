// `npm run setup`: installs what the benchmark and the tests need beyond npm packages, and only what
// is missing: a Chrome or Chromium (the benchmark's page and the browser tests), and on Linux a
// Vulkan driver for Dawn (the 'webgpu' package in Node). On Debian and Ubuntu it installs them
// through apt; elsewhere it says what to install. `--dry-run` prints the commands without running
// them. No dependencies: it runs before or after `npm ci` alike.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Where bench/chromium.ts looks for a browser when CHROME_PATH is not set (keep the two lists alike). */
export const CHROME_CANDIDATES = [
  '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable',
  '/opt/google/chrome/chrome', '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];
/** Where the Vulkan loader (and seqgpu/node) looks for drivers. */
export const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
const CHROME_DEB = 'https://dl.google.com/linux/direct/google-chrome-stable_current_amd64.deb';
const MIN_NODE = 20;
// Dawn needs a newer Mesa than Debian bookworm's own (22.3); bookworm-backports has 25.
const MIN_MESA = 23;

/** A failure the user can fix: printed as its message and the fix, with no stack trace. */
export class SetupError extends Error {
  constructor(message, fix) {
    super(message);
    this.fix = fix;
  }
}

/** The facts setup decides on, read from this machine. */
export function detect(env = process.env) {
  const osRelease = existsSync('/etc/os-release') ? parseOsRelease(readFileSync('/etc/os-release', 'utf8')) : {};
  return {
    platform: process.platform,
    arch: process.arch,
    node: process.versions.node,
    osRelease,
    chromeEnv: ['CHROME_PATH', 'PUPPETEER_EXECUTABLE_PATH'].map((k) => [k, env[k]]).find(([, v]) => v) ?? null,
    chrome: CHROME_CANDIDATES.find((p) => existsSync(p)) ?? null,
    icds: ICD_DIRS.flatMap((d) => (existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.json')).map((f) => join(d, f)) : [])),
    mesaVersion: debVersion('mesa-vulkan-drivers'),
    root: typeof process.getuid === 'function' && process.getuid() === 0,
    sudo: onPath('sudo'),
    apt: onPath('apt-get'),
  };
}

export function parseOsRelease(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
  }
  return out;
}

/**
 * What to do on a machine with these facts: `have` (what is there), `install` (what is missing, each
 * with why), and the shell commands that install it. Throws SetupError where it cannot help.
 */
export function plan(f) {
  if (Number(f.node.split('.')[0]) < MIN_NODE) {
    throw new SetupError(`Node ${f.node} is too old: seqgpu needs Node ${MIN_NODE} or newer.`, 'Install a current Node LTS from https://nodejs.org/ (or with nvm), then run npm ci again.');
  }
  const have = [];
  const missing = [];
  if (f.chromeEnv) {
    const [name, path] = f.chromeEnv;
    if (!existsSync(path)) {
      throw new SetupError(`${name}=${path} does not exist.`, `Point ${name} at a Chrome or Chromium binary, or unset it so that setup can find or install one.`);
    }
    have.push(`browser: ${path} (from ${name})`);
  } else if (f.chrome) {
    have.push(`browser: ${f.chrome}`);
  } else {
    missing.push('browser');
  }
  // Dawn uses Metal on macOS and D3D12 on Windows; only Linux needs a Vulkan driver.
  const needsVulkan = f.platform === 'linux';
  const oldMesa = f.mesaVersion !== null && majorOf(f.mesaVersion) < MIN_MESA;
  if (needsVulkan) {
    const names = f.icds.map((p) => p.split('/').pop().replace(/(_icd)?(\.[\w]+)?\.json$/, ''));
    const mesa = f.mesaVersion ? ` (Mesa ${f.mesaVersion})` : '';
    if (f.icds.length && !oldMesa) have.push(`Vulkan drivers: ${names.join(', ')}${mesa}`);
    else missing.push('vulkan');
  }
  const id = [f.osRelease.ID, ...(f.osRelease.ID_LIKE ?? '').split(' ')];
  const distro = id.includes('ubuntu') ? 'ubuntu' : id.includes('debian') ? 'debian' : null;
  const steps = { have, install: [], commands: [], manual: [] };
  if (!missing.length) return steps;
  if (f.platform !== 'linux' || !distro || !f.apt) {
    steps.manual = manualHelp(missing, oldMesa ? f.mesaVersion : null);
    return steps;
  }

  const before = [];
  const installs = [];
  if (missing.includes('browser')) {
    const why = 'the browser that runs the benchmark page and the browser tests';
    if (distro === 'debian') {
      steps.install.push(`chromium (${why})`);
      installs.push(['apt-get', 'install', '-y', 'chromium']);
    } else if (f.arch === 'x64') {
      // Ubuntu's chromium package installs a snap, which runs neither in containers nor under puppeteer.
      const deb = join(tmpdir(), CHROME_DEB.split('/').pop());
      steps.install.push(`google-chrome-stable (${why}; Ubuntu's chromium is a snap)`);
      before.push(['download', CHROME_DEB, deb]);
      installs.push(['apt-get', 'install', '-y', deb]);
    } else {
      steps.manual.push(...manualHelp(['browser'], null), 'Google Chrome has no Linux build for this CPU: install Chromium from your distribution');
    }
  }
  if (missing.includes('vulkan')) {
    const why = `Mesa's lavapipe, a Vulkan driver for Dawn in Node${oldMesa ? `, replacing Mesa ${f.mesaVersion}, too old for Dawn` : ''}`;
    if (f.osRelease.VERSION_CODENAME === 'bookworm') {
      steps.install.push(`mesa-vulkan-drivers from bookworm-backports (${why})`);
      before.push(['write', '/etc/apt/sources.list.d/bookworm-backports.list', 'deb http://deb.debian.org/debian bookworm-backports main\n']);
      installs.push(['apt-get', 'install', '-y', '-t', 'bookworm-backports', 'mesa-vulkan-drivers']);
    } else {
      steps.install.push(`mesa-vulkan-drivers (${why})`);
      installs.push(['apt-get', 'install', '-y', 'mesa-vulkan-drivers']);
    }
  }
  if (installs.length) steps.commands = [...before, ['apt-get', 'update'], ...installs];
  return steps;
}

function manualHelp(missing, oldMesa) {
  const out = [];
  if (missing.includes('browser')) {
    out.push('a browser: install Google Chrome (https://www.google.com/chrome/) or Chromium, or set CHROME_PATH to one');
  }
  if (missing.includes('vulkan')) {
    out.push(`a Vulkan driver for Dawn${oldMesa ? ` (Mesa ${oldMesa} is too old; ${MIN_MESA} or newer)` : ''}: your GPU vendor's driver, or Mesa's lavapipe ` +
      '(Fedora: dnf install mesa-vulkan-drivers; Arch: pacman -S vulkan-swrast; Alpine: apk add mesa-vulkan-swrast)');
  }
  return out;
}

/** Runs the plan's commands, with sudo where setup is not root. */
async function execute(steps, f, dryRun) {
  const sudo = f.root ? [] : ['sudo'];
  if (!f.root && !f.sudo && !dryRun) {
    throw new SetupError('installing needs root, and sudo is not installed.', `Run npm run setup as root, or run these yourself as root:\n${steps.commands.map(show).join('\n')}`);
  }
  for (const cmd of steps.commands) {
    console.log(`setup: ${sudo.length && cmd[0] !== 'download' ? 'sudo ' : ''}${show(cmd)}`);
    if (dryRun) continue;
    if (cmd[0] === 'download') {
      const res = await fetch(cmd[1]);
      if (!res.ok) throw new SetupError(`downloading ${cmd[1]} failed: ${res.status} ${res.statusText}`, 'Check the network, or install Google Chrome yourself and set CHROME_PATH.');
      writeFileSync(cmd[2], Buffer.from(await res.arrayBuffer()));
    } else if (cmd[0] === 'write') {
      run([...sudo, 'sh', '-c', `printf '%s' "$1" > "$0"`, cmd[1], cmd[2]]);
    } else {
      run([...sudo, 'env', 'DEBIAN_FRONTEND=noninteractive', ...cmd]);
    }
  }
}

function show(cmd) {
  if (cmd[0] === 'download') return `download ${cmd[1]} to ${cmd[2]}`;
  if (cmd[0] === 'write') return `echo '${cmd[2].trim()}' > ${cmd[1]}`;
  return cmd.join(' ');
}

function run(cmd) {
  const r = spawnSync(cmd[0], cmd.slice(1), { stdio: 'inherit' });
  if (r.error || r.status !== 0) {
    throw new SetupError(`'${cmd.join(' ')}' failed${r.error ? `: ${r.error.message}` : ` with status ${r.status}`}.`, 'Fix the apt error above (network, a held package, another apt running), then run npm run setup again.');
  }
}

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function debVersion(pkg) {
  try {
    const v = execFileSync('dpkg-query', ['-W', '-f=${Status} ${Version}', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return v.startsWith('install ok installed ') ? v.slice('install ok installed '.length).trim() : null;
  } catch {
    return null;
  }
}

const majorOf = (debVersion) => Number(/^(?:\d+:)?(\d+)/.exec(debVersion)?.[1] ?? 0);

export async function main(argv = process.argv.slice(2)) {
  const unknown = argv.filter((a) => a !== '--dry-run');
  if (unknown.length) throw new SetupError(`unknown argument ${unknown.join(' ')}.`, 'Usage: npm run setup [-- --dry-run]');
  const dryRun = argv.includes('--dry-run');
  const f = detect();
  const steps = plan(f);
  for (const h of steps.have) console.log(`setup: found ${h}`);
  if (steps.install.length) {
    console.log(`setup: ${dryRun ? 'would install' : 'installing'}:\n${steps.install.map((i) => `  - ${i}`).join('\n')}`);
    await execute(steps, f, dryRun);
  }
  if (steps.manual.length) {
    const why = steps.install.length ? 'setup cannot install the rest here' : 'setup installs through apt on Debian and Ubuntu only';
    throw new SetupError(`missing, and ${why}.`, `Install these yourself, then run npm run setup again to check:\n${steps.manual.map((m) => `  - ${m}`).join('\n')}`);
  }
  if (!steps.install.length) {
    console.log('setup: nothing to install');
    return;
  }
  if (dryRun) return;
  const after = plan(detect());
  if (after.install.length) throw new SetupError(`still missing after the install: ${after.install.join('; ')}.`, 'See the apt output above.');
  console.log('setup: done');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    if (e instanceof SetupError) {
      console.error(`setup: ${e.message}\n${e.fix}`);
    } else {
      console.error(`setup: ${e instanceof Error ? e.message : e}`);
    }
    process.exit(1);
  });
}
