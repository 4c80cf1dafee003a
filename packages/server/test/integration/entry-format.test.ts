import { redisStore } from '@strata/server/redis';
import { entryFormatSuite } from '../helpers/entry-formats.js';
import { keyNamespace } from '../helpers/key-namespace.js';
import { redisUrlForTests } from '../helpers/use-services.js';

const url = redisUrlForTests();
const keys = keyNamespace('format');

entryFormatSuite('Redis', () => redisStore({ url: url(), prefix: keys.next() }));
