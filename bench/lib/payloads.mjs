// Writes N prepared "key<TAB>json" lines (the same events the JS clients build) for the Rust ceiling and kcat.
import { writeFileSync } from 'node:fs'
import { makeInput } from './common.mjs'
import { buildEvent } from './segment.mjs'
import { CTX } from '../clients/index.mjs'

const [file, n] = [process.argv[2], Number(process.argv[3] || 10000)]
const lines = []
for (let i = 0; i < n; i++) { const e = buildEvent(makeInput(i), CTX); lines.push(`${e.key}\t${e.value}`) }
writeFileSync(file, lines.join('\n') + '\n')
console.log(`${file}: ${n} events, ${Math.round(lines.reduce((a, l) => a + l.length, 0) / n)} bytes each`)
