import { memoryStore } from '@strata/server';
import { entryFormatSuite } from './helpers/entry-formats.js';

entryFormatSuite('a memory store', () => memoryStore());
