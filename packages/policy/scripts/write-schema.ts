// Regenerates schema.json from the zod schema: `npm run schema -w @strata/policy`.
import { writeFileSync } from 'node:fs';
import { manifestJsonSchema } from '../src/validate/json-schema.js';

const target = new URL('../schema.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
