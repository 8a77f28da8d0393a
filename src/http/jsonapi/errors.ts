// The error objects of jsonapi-resources 0.9 (lib/jsonapi/exceptions.rb, locales/en.yml, error_codes.rb):
// title, detail and code as the gem renders them, for the customer routes' 400s and 404s.
import { ApiError, type ErrorObject, type FieldProblem } from "../../errors";

export type GemError = Omit<ErrorObject, "status">;

function bad(title: string, detail: string, code: string): GemError {
  return { title, detail, code };
}

/** The gem's 400 error objects, by exception class. */
export const gemErrors = {
  invalidResource: (resource: string) =>
    bad("Invalid resource", `${resource} is not a valid resource.`, "101"),
  filterNotAllowed: (filter: string) => bad("Filter not allowed", `${filter} is not allowed.`, "102"),
  invalidFieldValue: (field: string, value: string) =>
    bad("Invalid field value", `${value} is not a valid value for ${field}.`, "103"),
  invalidField: (type: string, field: string) =>
    bad("Invalid field", `${field} is not a valid field for ${type}.`, "104"),
  parameterNotAllowed: (param: string) => bad("Param not allowed", `${param} is not allowed.`, "105"),
  parameterMissing: (param: string) =>
    bad("Missing Parameter", `The required parameter, ${param}, is missing.`, "106"),
  invalidFilterValue: (filter: string, value: string) =>
    bad("Invalid filter value", `${value} is not a valid value for ${filter}.`, "107"),
  invalidInclude: (resource: string, relationship: string) =>
    bad("Invalid field", `${relationship} is not a valid relationship of ${resource}`, "112"),
  invalidSortCriteria: (resource: string, criteria: string) =>
    bad("Invalid sort criteria", `${criteria} is not a valid sort criteria for ${resource}`, "114"),
  invalidLinksObject: () => bad("Invalid Links Object", "Data is not a valid Links Object.", "115"),
  typeMismatch: (type: string) =>
    bad("Type Mismatch", `${type} is not a valid type for this operation.`, "116"),
  invalidPageValue: (page: string, value: number, detail?: string) =>
    bad("Invalid page value", detail ?? `${value} is not a valid value for ${page} page parameter.`, "118"),
  invalidFieldFormat: () => bad("Invalid field format", "Fields must specify a type.", "119"),
  invalidFiltersSyntax: (filters: string) =>
    bad("Invalid filters syntax", `${filters} is not a valid syntax for filtering.`, "120"),
  invalidDataFormat: () => bad("Invalid data format", "Data must be a hash.", "122"),
  badRequest: (detail: string) => bad("Bad Request", detail, "400"),
};

/** A 400 carrying one or more of the gem's error objects. */
export function badRequest(...errors: GemError[]): ApiError {
  return new ApiError(400, errors);
}

/** The gem's RecordNotFound: `The record identified by <id> could not be found.` */
export function recordNotFound(id: string): ApiError {
  return new ApiError(404, [
    { title: "Record not found", detail: `The record identified by ${id} could not be found.`, code: "404" },
  ]);
}

/** A 422 of the gem's ValidationErrors: title = message, detail = "<key> - <message>", code 100. */
export function validationErrors(problems: FieldProblem[]): ApiError {
  return new ApiError(
    422,
    problems.map((p) => ({
      title: p.message,
      detail: `${p.key} - ${p.message}`,
      code: "100",
      source: { pointer: p.pointer },
    })),
  );
}
