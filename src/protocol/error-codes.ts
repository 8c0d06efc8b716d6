/**
 * Numeric error codes carried in `error` responses (the MeshAgent `ErrorCode` list).
 * See docs/PROTOCOL.md#error-codes.
 */
export const ErrorCode = {
  PermissionDenied: 1001,
  InvalidRequest: 1002,
  NotFound: 1003,
  AlreadyExists: 1004,
  Conflict: 1005,
  InvalidState: 1006,
  DependencyMissing: 1007,
  OperationFailed: 1008,
  Timeout: 1009,
  UnexpectedResponseType: 1100,
} as const;

/** One of the {@link ErrorCode} values. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * The exact error text clients depend on when a message target is unknown,
 * gone or not messaging-enabled. The TypeScript SDK compares this string; the
 * Python SDK checks {@link ErrorCode.NotFound}. Always send both.
 */
export const PARTICIPANT_NOT_FOUND_TEXT = 'the participant was not found';
