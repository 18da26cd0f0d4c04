// `npm run setup` (scripts/setup.mjs): what it plans on each kind of machine, from given facts, and
// how it behaves here (where both a browser and a Vulkan driver are present) and when it fails.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './package-util';

interface Steps { have: string[]; install: string[]; commands: string[][]; manual: string[] }
interface Setup {
  plan(facts: object): Steps;
  parseOsRelease(text: string): Record<string, string>;
  CHROME_CANDIDATES: string[];
}

const SCRIPT = join(ROOT, 'scripts/setup.mjs');
let setup: Setup;
beforeAll(async () => {
  setup = await import(/* @vite-ignore */ pathToFileURL(SCRIPT).href);
});

const bare = {
  platform: 'linux', arch: 'x64', node: '20.19.0', chromeEnv: null, chrome: null, icds: [], mesaVersion: null, root: true, sudo: false, apt: true,
};
const DEBIAN_12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n';
const UBUNTU_24 = 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=noble\n';
const FEDORA = 'NAME="Fedora Linux"\nID=fedora\n';
const cmds = (s: Steps) => s.commands.map((c) => c.join(' '));

describe('npm run setup: the plan', () => {
  it('on a bare Debian 12: chromium, and lavapipe from bookworm-backports, after one apt-get update', () => {
    const s = setup.plan({ ...bare, osRelease: setup.parseOsRelease(DEBIAN_12) });
    expect(cmds(s)).toEqual([
      'write /etc/apt/sources.list.d/bookworm-backports.list deb http://deb.debian.org/debian bookworm-backports main\n',
      'apt-get update',
      'apt-get install -y chromium',
      'apt-get install -y -t bookworm-backports mesa-vulkan-drivers',
    ]);
    expect(s.install.map((i) => i.split(' ')[0])).toEqual(['chromium', 'mesa-vulkan-drivers']);
    expect(s.manual).toEqual([]);
  });

  it("on Debian 12 with bookworm's own Mesa 22: lavapipe from backports all the same", () => {
    const s = setup.plan({ ...bare, osRelease: setup.parseOsRelease(DEBIAN_12), chrome: '/usr/bin/chromium', icds: ['/usr/share/vulkan/icd.d/lvp_icd.x86_64.json'], mesaVersion: '22.3.6-1+deb12u1' });
    expect(cmds(s).at(-1)).toBe('apt-get install -y -t bookworm-backports mesa-vulkan-drivers');
    expect(s.install[0]).toContain('too old for Dawn');
  });

  it("on Ubuntu: Google Chrome's .deb through apt (Ubuntu's chromium is a snap) and lavapipe", () => {
    const s = setup.plan({ ...bare, osRelease: setup.parseOsRelease(UBUNTU_24) });
    const c = cmds(s);
    expect(c[0]).toMatch(/^download https:\/\/dl\.google\.com\/linux\/direct\/google-chrome-stable_current_amd64\.deb /);
    expect(c.slice(1)).toEqual(['apt-get update', expect.stringMatching(/^apt-get install -y \/.*google-chrome-stable_current_amd64\.deb$/), 'apt-get install -y mesa-vulkan-drivers']);
  });

  it('with both present: nothing to install', () => {
    const s = setup.plan({ ...bare, osRelease: setup.parseOsRelease(DEBIAN_12), chrome: '/usr/bin/chromium', icds: ['/usr/share/vulkan/icd.d/lvp_icd.json'], mesaVersion: '25.0.7-2~bpo12+1' });
    expect(s.commands).toEqual([]);
    expect(s.install).toEqual([]);
    expect(s.have.length).toBe(2);
  });

  it('on other systems: what to install, and no command', () => {
    const fedora = setup.plan({ ...bare, osRelease: setup.parseOsRelease(FEDORA), apt: false });
    expect(fedora.commands).toEqual([]);
    expect(fedora.manual.join('\n')).toMatch(/Chrome/);
    expect(fedora.manual.join('\n')).toMatch(/dnf install mesa-vulkan-drivers/);
    // macOS: Dawn runs on Metal, so only the browser matters.
    const mac = setup.plan({ ...bare, platform: 'darwin', osRelease: {} });
    expect(mac.manual).toHaveLength(1);
    expect(setup.plan({ ...bare, platform: 'darwin', osRelease: {}, chrome: '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome' }).manual).toEqual([]);
  });

  it('refuses a Node older than 20, with the fix', () => {
    expect(() => setup.plan({ ...bare, node: '18.20.0', osRelease: {} })).toThrow(/Node 18\.20\.0 is too old/);
  });

  it('looks for a browser where the benchmark does (bench/chromium.ts)', () => {
    const src = readFileSync(join(ROOT, 'bench/chromium.ts'), 'utf8');
    const list = /const CANDIDATES = \[([^\]]*)\]/.exec(src)?.[1] ?? '';
    expect(setup.CHROME_CANDIDATES).toEqual([...list.matchAll(/'([^']+)'/g)].map((m) => m[1]));
  });
});

describe('npm run setup: on this machine', () => {
  const runSetup = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
    spawnSync(process.execPath, [SCRIPT, ...args], { cwd: ROOT, encoding: 'utf8', env });

  it('finds the browser and the Vulkan driver the tests use, and installs nothing', () => {
    const r = runSetup([]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^setup: found browser: /m);
    expect(r.stdout).toMatch(/^setup: found Vulkan drivers: /m);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('setup: nothing to install');
  });

  it('a setup error prints its message and the fix, no stack trace, and exits 1', () => {
    const r = runSetup([], { ...process.env, CHROME_PATH: '/nonexistent/chrome' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('setup: CHROME_PATH=/nonexistent/chrome does not exist.\n' +
      'Point CHROME_PATH at a Chrome or Chromium binary, or unset it so that setup can find or install one.\n');
    const bad = runSetup(['--bogus']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).not.toMatch(/^\s+at /m);
  });
});
