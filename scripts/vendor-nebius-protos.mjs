// Copies Nebius's published protos (github.com/nebius/api) into src/providers/nebius/protos and
// drops their buf.validate annotations: protobufjs (under @grpc/proto-loader) cannot parse the
// list-valued `cel: [...]` option aggregates, and validation rules do not change the wire format.
//   node scripts/vendor-nebius-protos.mjs <nebius/api checkout dir> <commit>
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';

const FILES = [
  'nebius/annotations.proto', 'nebius/common/v1/metadata.proto', 'nebius/common/v1/operation.proto',
  'nebius/common/v1/operation_service.proto', 'nebius/common/v1/progress_tracker.proto', 'nebius/common/v1/error.proto',
  'nebius/compute/v1/instance.proto', 'nebius/compute/v1/instance_service.proto', 'nebius/compute/v1/disk.proto',
  'nebius/compute/v1/disk_service.proto', 'nebius/compute/v1/network_interface.proto', 'nebius/compute/v1/operation_service.proto',
  'nebius/iam/v1/token_exchange_service.proto', 'nebius/iam/v1/token_service.proto',
];

/** Removes every `(buf.validate.…) … = value` option, with balanced braces, and the import. */
export function stripValidate(text) {
  let out = text.replace(/^import "buf\/validate\/validate.proto";\n/m, '');
  for (;;) {
    const at = out.indexOf('(buf.validate.');
    if (at < 0) break;
    const isStatement = /option\s*$/.test(out.slice(0, at));
    let start = isStatement ? out.slice(0, at).search(/option\s*$/) : at;
    let i = out.indexOf('=', at) + 1;
    while (/\s/.test(out[i])) i++;
    if (out[i] === '{' || out[i] === '[') {
      let depth = 0;
      for (; i < out.length; i++) {
        if (out[i] === '{' || out[i] === '[') depth++;
        else if (out[i] === '}' || out[i] === ']') { depth--; if (depth === 0) { i++; break; } }
        else if (out[i] === '"') { i++; while (out[i] !== '"') { if (out[i] === '\\') i++; i++; } }
      }
    } else {
      while (i < out.length && !/[,\];]/.test(out[i])) i++;
    }
    if (isStatement) { while (/\s/.test(out[i])) i++; if (out[i] === ';') i++; }
    else if (out[i] === ',' ) i++;
    else { const before = out.slice(0, start).search(/,\s*$/); if (before >= 0) start = before; }
    out = out.slice(0, start) + out.slice(i);
  }
  return out.replace(/\s*\[\s*\]/g, '');
}

const [, , dir, commit] = process.argv;
if (dir && commit) {
  for (const f of FILES) {
    const text = execFileSync('git', ['-C', dir, 'show', `${commit}:${f}`], { encoding: 'utf8' });
    const target = join('src/providers/nebius/protos', f);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, stripValidate(text));
  }
  writeFileSync('src/providers/nebius/protos/nebius/LICENSE', execFileSync('git', ['-C', dir, 'show', `${commit}:LICENSE`], { encoding: 'utf8' }));
}
