/**
 * The directory conformance suite against the in-memory directory (one server).
 */
import { describe } from 'vitest';
import { startServer } from '../helpers/server.js';
import { directoryConformance } from './directory-conformance.js';

describe('in-memory directory', () => {
  directoryConformance(async () => [await startServer({ limits: { maxParticipantsPerRoom: 4 } })]);
});
