// The one error type of the SDK: the server's error code and message, and for a failed
// statement of a batch its 1-based index.

export class KalamError extends Error {
  /** The server's code (`INVALID_SQL`, `NOT_FOUND`, ...) or one of the SDK's own:
   *  `NETWORK_ERROR` (the server could not be reached), `INVALID_RESPONSE`,
   *  `INVALID_INPUT` (a wrong argument), `CLIENT_CLOSED`, `ABORTED` (the caller's
   *  AbortSignal ended the request). */
  readonly code: string;
  /** 1-based index of the failed statement in the batch, when a statement failed. */
  readonly statementIndex?: number;
  /** HTTP status of the answer, when there was one. */
  readonly httpStatus?: number;
  /** Results of the statements of the batch that ran before the failure. */
  readonly results?: unknown[];

  constructor(
    code: string,
    message: string,
    details: { statementIndex?: number; httpStatus?: number; results?: unknown[]; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'KalamError';
    this.code = code;
    this.statementIndex = details.statementIndex;
    this.httpStatus = details.httpStatus;
    this.results = details.results;
  }
}
