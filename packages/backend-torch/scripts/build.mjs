#!/usr/bin/env node
// Builds the libtorch addon. Never fails `pnpm install`: on any problem it writes the reason to
// build/unavailable.txt (read by the engine's available()) and exits 0.
//
// libtorch is looked for, in order:
//   1. LIBTORCH_DIR (an unpacked libtorch: include/, lib/)
//   2. a Python torch install: `python3 -c "import torch; print(torch.utils.cmake_prefix_path)"`
//      (its bundled lib/ and include/), trying $PYTHON, python3 on PATH, then /usr/bin/python3
//   3. Debian's libtorch-dev (/usr/include, /usr/lib/<multiarch>)
// DFDET_TORCH_SOURCE=dir|python|debian uses only that one.
// DFDET_TORCH_SKIP_BUILD=1 skips the build (records why).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = join(pkgDir, 'build');
const unavailableFile = join(buildDir, 'unavailable.txt');
const addonFile = join(buildDir, 'Release', 'dfdet_torch.node');
const log = (msg) => console.log(`[@dfdet/backend-torch] ${msg}`);

function unavailable(reason) {
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(unavailableFile, `${reason.trim()}\n`);
  log(`torch backend NOT built: ${reason.trim().split('\n')[0]}`);
  log(`(the torch engine will report this reason; wasm/cpu engines are unaffected)`);
  process.exit(0);
}

function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000, ...opts }).trim();
}

function multiarch() {
  try {
    return run('gcc', ['-print-multiarch']) || 'x86_64-linux-gnu';
  } catch {
    return 'x86_64-linux-gnu';
  }
}

/** A libtorch layout: include dirs, lib dir, whether it has CUDA, where it came from. */
function layout(includeRoot, libDir, source) {
  if (!existsSync(join(includeRoot, 'ATen', 'ATen.h'))) return { error: `${source}: no ATen/ATen.h under ${includeRoot}` };
  const hasLib = (n) => existsSync(join(libDir, `lib${n}.so`));
  for (const n of ['torch', 'torch_cpu', 'c10']) if (!hasLib(n)) return { error: `${source}: no lib${n}.so in ${libDir}` };
  const includes = [includeRoot];
  const api = join(includeRoot, 'torch', 'csrc', 'api', 'include');
  if (existsSync(api)) includes.push(api);
  const libs = ['torch', 'torch_cpu', 'c10'];
  const cuda = hasLib('torch_cuda');
  if (cuda) libs.push('torch_cuda', ...(hasLib('c10_cuda') ? ['c10_cuda'] : []));
  return { includes, libDir, libs, cuda, source };
}

function fromLibtorchDir() {
  const dir = process.env.LIBTORCH_DIR;
  if (!dir) return { error: 'LIBTORCH_DIR not set' };
  return layout(join(dir, 'include'), join(dir, 'lib'), `LIBTORCH_DIR=${dir}`);
}

function fromPython() {
  const errors = [];
  const pythons = [...new Set([process.env.PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean))];
  for (const py of pythons) {
    let out;
    try {
      out = run(py, ['-c', 'import torch, os; print(torch.utils.cmake_prefix_path); print(os.path.dirname(torch.__file__)); print(int(torch.compiled_with_cxx11_abi())); print(torch.__version__)']);
    } catch (err) {
      errors.push(`${py}: no torch (${String(err.stderr || err.message).trim().split('\n').pop()})`);
      continue;
    }
    const [, torchDir, abi, version] = out.split('\n');
    const l = layout(join(torchDir, 'include'), join(torchDir, 'lib'), `python torch ${version} (${py}: ${torchDir})`);
    if (l.error) {
      errors.push(l.error);
      continue;
    }
    return { ...l, abi: abi === '1' ? 1 : 0 };
  }
  return { error: errors.join('; ') };
}

function fromDebian() {
  const libDir = `/usr/lib/${multiarch()}`;
  return layout('/usr/include', libDir, `Debian libtorch-dev (${libDir})`);
}

/** _GLIBCXX_USE_CXX11_ABI of a libtorch: its c10 exports std::__cxx11 symbols iff built with 1. */
function detectAbi(libDir) {
  try {
    const syms = execFileSync('nm', ['-D', '--defined-only', join(libDir, 'libc10.so')], { encoding: 'utf8', maxBuffer: 64 << 20 });
    return syms.includes('__cxx11') ? 1 : 0;
  } catch {
    return 1;
  }
}

function findNodeGyp() {
  const require = createRequire(join(pkgDir, 'package.json'));
  try {
    return { cmd: process.execPath, pre: [require.resolve('node-gyp/bin/node-gyp.js')] };
  } catch {
    /* not a dependency */
  }
  const prefix = resolve(dirname(process.execPath), '..');
  for (const p of [
    join(prefix, 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
    join(prefix, 'lib/node_modules/pnpm/dist/node_modules/node-gyp/bin/node-gyp.js'),
  ]) {
    if (existsSync(p)) return { cmd: process.execPath, pre: [p] };
  }
  const onPath = spawnSync('sh', ['-c', 'command -v node-gyp'], { encoding: 'utf8' });
  if (onPath.status === 0 && onPath.stdout.trim()) return { cmd: onPath.stdout.trim(), pre: [] };
  return undefined;
}

/** The directory holding include/node/node_api.h, so node-gyp downloads no headers. */
function findNodeDir() {
  const candidates = [process.env.npm_config_nodedir, resolve(dirname(process.execPath), '..'), '/usr', '/usr/local'];
  return candidates.find((d) => d && existsSync(join(d, 'include', 'node', 'node_api.h')));
}

/**
 * Without node-gyp (e.g. a GPU machine with a bare Node binary): one c++ invocation with the same
 * flags as binding.gyp. N-API needs only Node's include/node headers.
 */
function compileDirectly(torch, abi, nodedir) {
  log('node-gyp not found: compiling with c++ directly');
  const require = createRequire(join(pkgDir, 'package.json'));
  const napiInclude = require('node-addon-api').include_dir;
  mkdirSync(dirname(addonFile), { recursive: true });
  const args = [
    '-std=c++17', '-O2', '-fPIC', '-shared', '-frtti', '-fexceptions', '-Wno-deprecated-declarations',
    '-DNAPI_VERSION=8', '-DNAPI_CPP_EXCEPTIONS', `-D_GLIBCXX_USE_CXX11_ABI=${abi}`, '-DBUILDING_NODE_EXTENSION',
    `-I${napiInclude}`, `-I${join(nodedir, 'include', 'node')}`, ...torch.includes.map((i) => `-I${i}`),
    join(pkgDir, 'native', 'addon.cc'),
    `-L${torch.libDir}`, '-Wl,--no-as-needed', ...torch.libs.map((l) => `-l${l}`), '-Wl,--as-needed', `-Wl,-rpath,${torch.libDir}`, '-ldl',
    '-o', addonFile,
  ];
  return spawnSync('c++', args, { cwd: pkgDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function main() {
  if (process.env.DFDET_TORCH_SKIP_BUILD === '1') unavailable('build skipped (DFDET_TORCH_SKIP_BUILD=1)');
  if (process.platform !== 'linux') unavailable(`unsupported platform ${process.platform} (the addon build supports Linux)`);
  const tried = [];
  let torch;
  // DFDET_TORCH_SOURCE=dir|python|debian pins one source (to build against a specific libtorch)
  const sources = { dir: fromLibtorchDir, python: fromPython, debian: fromDebian };
  const pinned = sources[process.env.DFDET_TORCH_SOURCE ?? ''];
  for (const find of pinned ? [pinned] : [fromLibtorchDir, fromPython, fromDebian]) {
    const r = find();
    if (!r.error) {
      torch = r;
      break;
    }
    tried.push(r.error);
  }
  if (!torch) {
    unavailable(`libtorch not found (${tried.join('; ')}); install it (apt-get install libtorch-dev, or pip install torch, or set LIBTORCH_DIR) and re-run pnpm install`);
  }
  const abi = torch.abi ?? detectAbi(torch.libDir);
  const gyp = process.env.DFDET_TORCH_NO_GYP === '1' ? undefined : findNodeGyp();
  const nodedir = findNodeDir();
  if (!nodedir) unavailable(`no Node headers (include/node/node_api.h) next to ${process.execPath}; install nodejs headers (e.g. apt-get install libnode-dev) or set npm_config_nodedir`);
  try {
    run('c++', ['--version']);
  } catch {
    unavailable('no C++ compiler (c++): apt-get install build-essential');
  }

  // up to date (same sources, libtorch, Node ABI): nothing to do — pnpm runs this on every install
  const key = createHash('sha256')
    .update(readFileSync(join(pkgDir, 'native', 'addon.cc')))
    .update(readFileSync(join(pkgDir, 'binding.gyp')))
    .update(readFileSync(fileURLToPath(import.meta.url)))
    .update(JSON.stringify([torch.source, torch.libDir, torch.libs, abi, process.versions.modules, process.versions.napi]))
    .digest('hex')
    .slice(0, 16);
  const stamp = join(buildDir, 'torch.json');
  if (process.env.DFDET_TORCH_FORCE_BUILD !== '1' && existsSync(addonFile) && !existsSync(unavailableFile) && existsSync(stamp)) {
    try {
      if (JSON.parse(readFileSync(stamp, 'utf8')).key === key) {
        log(`up to date (${torch.source}); DFDET_TORCH_FORCE_BUILD=1 rebuilds`);
        return;
      }
    } catch {
      /* rebuild */
    }
  }
  log(`libtorch: ${torch.source}${torch.cuda ? ' with CUDA' : ''}; cxx11 abi ${abi}; node headers: ${nodedir}`);
  rmSync(unavailableFile, { force: true });
  const env = {
    ...process.env,
    DFDET_TORCH_INCLUDES: torch.includes.join(' '),
    DFDET_TORCH_LIBDIR: torch.libDir,
    DFDET_TORCH_LIBS: torch.libs.map((l) => `-l${l}`).join(' '),
    DFDET_TORCH_ABI: String(abi),
    JOBS: process.env.JOBS ?? 'max',
  };
  const res = gyp
    ? spawnSync(gyp.cmd, [...gyp.pre, 'rebuild', `--nodedir=${nodedir}`, '--release'], { cwd: pkgDir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    : compileDirectly(torch, abi, nodedir);
  if (res.status !== 0) {
    const out = `${res.stdout ?? ''}\n${res.stderr ?? ''}`;
    const lines = out.split('\n').filter((l) => /error|Error|ERR!/.test(l)).slice(0, 12);
    unavailable(`${gyp ? 'node-gyp' : 'c++'} build failed (exit ${res.status ?? res.signal}) against ${torch.source}:\n${lines.join('\n') || out.slice(-3000)}`);
  }
  if (!existsSync(addonFile)) unavailable(`node-gyp reported success but ${addonFile} is missing`);
  // load it in a child process: a wrong ABI or a missing shared library shows up here, not at run time
  const check = spawnSync(process.execPath, ['-e', `const a = require(${JSON.stringify(addonFile)}); const i = a.info(); const id = a.create(new Float32Array([1, 2]), [2], 'float32'); const [s] = a.runOp('aten::add', 'Tensor', [id, id, 1]); if (a.read(s)[1] !== 4) throw new Error('aten::add gave ' + a.read(s)); console.log(JSON.stringify(i));`], { encoding: 'utf8', env: { ...process.env, OMP_WAIT_POLICY: 'passive' } });
  if (check.status !== 0) {
    unavailable(`the built addon does not load or run: ${(check.stderr || check.stdout || `signal ${check.signal}`).trim().split('\n').slice(0, 6).join('\n')}`);
  }
  writeFileSync(stamp, JSON.stringify({ key, source: torch.source, libDir: torch.libDir, cuda: torch.cuda, abi, ...JSON.parse(check.stdout.trim().split('\n').pop()) }, null, 2));
  log(`built ${addonFile} (${torch.source})`);
}

try {
  main();
} catch (err) {
  unavailable(`build script error: ${err?.stack ?? err}`);
}
