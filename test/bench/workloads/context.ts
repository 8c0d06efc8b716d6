/** What the generator process gives a workload besides its task. */
export interface WorkloadContext {
  /**
   * Where receivers connect: this generator's server, or (cluster scenarios)
   * a second node of the same cluster.
   */
  readonly receiverDriver: import('../drivers/types.js').BenchDriver;
  /** Prefix for room names, unique per run. */
  readonly roomPrefix: string;
  /** Tells the orchestrator that measuring starts or stops. */
  readonly mark: (name: 'measure-start' | 'measure-end') => void;
  /**
   * Hands connected peers to the generator. They stay open until a
   * `close-all` task or until the generator exits: each run gets a fresh
   * generator, and closing a thousand clients one by one (each departure a
   * presence push to all the others) only costs time that nobody measures.
   */
  readonly retain: (peers: Iterable<import('../drivers/types.js').BenchPeer>) => void;
}
