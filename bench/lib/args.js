'use strict';
/** Command-line flags shared by bench/run.js and each table script. */
function parseArgs(argv = process.argv.slice(2)) {
  const args = { quick: false, plain: false, only: null, ec: null, rsa: null };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--quick') args.quick = true;
    else if (flag === '--plain') args.plain = true;
    else if (flag === '--only') args.only = argv[++i].split(',').map(Number);
    else if (flag === '--ec') args.ec = Number(argv[++i]);
    else if (flag === '--rsa') args.rsa = Number(argv[++i]);
    else if (flag === '--help' || flag === '-h') args.help = true;
    else throw new Error(`unknown flag ${flag} (try --help)`);
  }
  return args;
}

/** Pick the full figure or the --quick one, unless the user gave an explicit count. */
function count(args, full, quick, override = null) {
  if (override !== null && Number.isFinite(override)) return override;
  return args.quick ? quick : full;
}

function toArgv(args) {
  const out = [];
  if (args.quick) out.push('--quick');
  if (args.ec !== null) out.push('--ec', String(args.ec));
  if (args.rsa !== null) out.push('--rsa', String(args.rsa));
  return out;
}

module.exports = { parseArgs, count, toArgv };
