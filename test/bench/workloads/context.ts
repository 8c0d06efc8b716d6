/** What the generator process gives a workload besides its task. */
export interface WorkloadContext {
  /** Prefix for room names, unique per run. */
  readonly roomPrefix: string;
  /** Tells the orchestrator that measuring starts or stops. */
  readonly mark: (name: 'measure-start' | 'measure-end') => void;
}
