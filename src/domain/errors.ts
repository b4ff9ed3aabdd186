/**
 * One error type for the whole server. The HTTP status is derived from the code through
 * ERROR_STATUS, so a code always answers with the same status wherever it is raised.
 */
export const ERROR_STATUS = {
  INVALID_MODULE: 400,
  INVALID_DATA: 400,
  MANDATORY_NOT_FOUND: 400,
  REQUIRED_PARAM_MISSING: 400,
  EXPECTED_FIELD_MISSING: 400,
  DEPENDENT_FIELD_MISSING: 400,
  DEPENDENT_MISMATCH: 400,
  AMBIGUITY_DURING_PROCESSING: 400,
  LIMIT_EXCEEDED: 400,
  NOT_ALLOWED: 400,
  NOT_SUPPORTED: 400,
  DUPLICATE_DATA: 400,
  PATTERN_NOT_MATCHED: 400,
  INVALID_REQUEST_METHOD: 400,
  AUTHORIZATION_FAILED: 400,
  DISCRETE_PAGINATION_LIMIT_EXCEEDED: 400,
  TOKEN_BOUND_DATA_MISMATCH: 400,
  EXPIRED_VALUE: 400,
  ALREADY_SCHEDULED: 400,
  ID_ALREADY_CONVERTED: 400,
  CANNOT_DELETE: 400,
  CANNOT_RESTORE_WITHOUT_PARENT: 400,
  FILE_SIZE_MORE_THAN_ALLOWED_SIZE: 400,
  EXPECTED_PARAM_MISSING: 400,
  OAUTH_SCOPE_MISMATCH: 401,
  AUTHENTICATION_FAILURE: 401,
  INVALID_TOKEN: 401,
  NO_PERMISSION: 403,
  CSRF_TOKEN_INVALID: 403,
  INVALID_URL_PATTERN: 404,
  REQUEST_TIMEOUT: 408,
  LINK_EXPIRED: 410,
  REQUEST_ENTITY_TOO_LARGE: 413,
  TOO_MANY_REQUESTS: 429,
  REQUEST_HEADER_FIELDS_TOO_LARGE: 431,
  INTERNAL_ERROR: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export type ErrorDetails = Record<string, unknown>;

export interface AppErrorOptions {
  /**
   * The error is about one item of the request's wrapper array (`merge[0]`,
   * `audit_log_export[0].criteria`, ...). Zoho answers such errors inside that array; the route
   * declares the array's name (`errorWrapper`), the error only says that it belongs there.
   */
  perItem?: boolean;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;
  readonly perItem: boolean;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options: AppErrorOptions = {}) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
    this.perItem = options.perItem === true;
  }

  /** An error about one item of the request's wrapper array (see AppErrorOptions.perItem). */
  static perItem(code: ErrorCode, message: string, details: ErrorDetails = {}): AppError {
    return new AppError(code, message, details, { perItem: true });
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  /** The Zoho-shaped body: the four keys the official SDK needs to recognise an error. */
  toBody(): ZohoErrorBody {
    return { code: this.code, details: this.details, message: this.message, status: 'error' };
  }
}

export interface ZohoErrorBody {
  code: string;
  details: ErrorDetails;
  message: string;
  status: 'error';
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;
