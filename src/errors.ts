// The one error type of the app: carries JSON:API error objects; rendered by app.onError only.
export type ErrorObject = {
  status: string;
  title: string;
  detail?: string;
  code?: string;
  source?: { pointer?: string; parameter?: string; header?: string };
};

export class ApiError extends Error {
  readonly status: number;
  readonly errors: ErrorObject[];
  readonly headers: Record<string, string>;

  constructor(status: number, errors: Omit<ErrorObject, "status">[], headers: Record<string, string> = {}) {
    super(errors[0]?.detail ?? errors[0]?.title ?? `HTTP ${status}`);
    this.status = status;
    // The gem's member order: title, detail, code, source, status.
    this.errors = errors.map((e) => ({ ...e, status: String(status) }));
    this.headers = headers;
  }

  static notFound(): ApiError {
    return new ApiError(404, [{ title: "Record not found", detail: "Record not found" }]);
  }

  static badRequest(title: string, detail: string, source?: ErrorObject["source"]): ApiError {
    return new ApiError(400, [{ title, detail, ...(source ? { source } : {}) }]);
  }
}

/** A 422 problem in Yeti's shape: title = message, detail = "<key> - <message>". */
export type FieldProblem = { key: string; message: string; pointer: string };

export function validationError(problems: FieldProblem[]): ApiError {
  return new ApiError(
    422,
    problems.map((p) => ({
      title: p.message,
      detail: `${p.key} - ${p.message}`,
      source: { pointer: p.pointer },
    })),
  );
}
