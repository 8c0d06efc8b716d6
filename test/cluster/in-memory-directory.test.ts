/**
 * The directory conformance suite against the in-memory directory (one server).
 */
import { describe } from 'vitest';
import { useServers } from '../helpers/server.js';
import { directoryConformance } from './directory-conformance.js';

describe('in-memory directory', () => {
  const servers = useServers({ limits: { maxParticipantsPerRoom: 4 } });
  directoryConformance(async () => [await servers.start()]);
});
