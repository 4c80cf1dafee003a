import { redisStore } from '@strata/server/redis';
import { entryFormatSuite } from '../helpers/entry-formats.js';
import { redisUrlForTests } from '../helpers/use-services.js';

const url = redisUrlForTests();
const runPrefix = `strata-test:format:${process.pid}:${Date.now().toString(36)}`;
let prefixes = 0;

entryFormatSuite('Redis', () => redisStore({ url: url(), prefix: `${runPrefix}:${++prefixes}` }));
