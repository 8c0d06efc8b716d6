/**
 * Benchmark settings per mode: full (the published figures), quick (CI smoke,
 * under two minutes) and smoke (the test suite's tiny run, hidden flag).
 */

/** The run modes. */
export type Mode = 'full' | 'quick' | 'smoke';

/** Every knob of a run. */
export interface Settings {
  readonly mode: Mode;
  /** Runs of each scenario x target; the table shows medians. */
  readonly repeats: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  readonly drainMs: number;
  /** Size of a direct message's JSON body. */
  readonly bodyBytes: number;
  /** Sender pair counts of the direct scenarios. */
  readonly directPairs: readonly number[];
  /** In-flight direct sends per sender. */
  readonly directWindow: number;
  readonly attachmentBytes: number;
  /** In-flight sends per sender in the attachment scenario. */
  readonly attachmentWindow: number;
  /** Room sizes of the fan-out scenarios. */
  readonly fanoutSizes: readonly number[];
  /** Broadcasts in flight. */
  readonly fanoutWindow: number;
  /** Participants of the presence scenarios. */
  readonly presenceParticipants: number;
  /** New participants timed in the enable scenario. */
  readonly presenceTrials: number;
  /** Joins in progress at once whenever a room is filled. */
  readonly joinConcurrency: number;
  /** Participant counts of the footprint scenarios. */
  readonly footprintSizes: readonly number[];
  /**
   * Room sizes of the one-room scenarios: server RSS per enabled participant
   * and the time until every member's view is complete, all in one room.
   */
  readonly roomSizes: readonly number[];
  /** Enabled members of the presence-flood room (the flooders included). */
  readonly floodMembers: number;
  /** Clients looping `set_attributes` in the presence-flood scenario. */
  readonly flooders: number;
  /** Participants per room in the footprint scenarios. */
  readonly footprintRoomSize: number;
  /** Most participants one generator process holds in the footprint scenarios. */
  readonly footprintPerGenerator: number;
  /** Sender/receiver pairs of the cluster direct scenario (sender on one node, receiver on the other). */
  readonly clusterDirectPairs: number;
  /** Room size of the cluster fan-out scenario (members alternate between the two nodes). */
  readonly clusterRoomSize: number;
  /** Longest a single run (one scenario, one target, one repeat) may take. */
  readonly runTimeoutMs: number;
  /**
   * A scenario x target whose run took longer than this is not repeated
   * (its figure is then from fewer runs, and says so): the roomstate client
   * filling a 1000-member room in one process takes minutes per run.
   */
  readonly slowRunSeconds: number;
}

const full: Settings = {
  mode: 'full',
  repeats: 3,
  warmupMs: 2000,
  measureMs: 5000,
  drainMs: 15_000,
  bodyBytes: 100,
  directPairs: [1, 50],
  directWindow: 64,
  attachmentBytes: 64 * 1024,
  attachmentWindow: 16,
  fanoutSizes: [10, 100, 1000],
  fanoutWindow: 16,
  presenceParticipants: 1000,
  presenceTrials: 20,
  joinConcurrency: 100,
  footprintSizes: [1000, 10_000],
  roomSizes: [1000, 10_000],
  floodMembers: 50,
  flooders: 4,
  footprintRoomSize: 100,
  footprintPerGenerator: 2500,
  clusterDirectPairs: 10,
  clusterRoomSize: 40,
  runTimeoutMs: 15 * 60_000,
  slowRunSeconds: 150,
};

const quick: Settings = {
  ...full,
  mode: 'quick',
  repeats: 1,
  warmupMs: 200,
  measureMs: 500,
  drainMs: 5000,
  // Smaller rooms: filling a room costs O(n^2) presence pushes, and quick must stay under two minutes.
  fanoutSizes: [10, 100, 200],
  presenceParticipants: 100,
  presenceTrials: 3,
  footprintSizes: [300],
  roomSizes: [1000],
  runTimeoutMs: 2 * 60_000,
};

const smoke: Settings = {
  ...quick,
  mode: 'smoke',
  warmupMs: 50,
  measureMs: 200,
  drainMs: 5000,
  directPairs: [1, 5],
  fanoutSizes: [10],
  presenceParticipants: 20,
  presenceTrials: 2,
  footprintSizes: [100],
  roomSizes: [20],
  floodMembers: 10,
  flooders: 2,
  footprintRoomSize: 10,
  clusterDirectPairs: 2,
  clusterRoomSize: 10,
  runTimeoutMs: 60_000,
};

/** The settings of a mode. */
export function settingsFor(mode: Mode): Settings {
  return mode === 'full' ? full : mode === 'quick' ? quick : smoke;
}
