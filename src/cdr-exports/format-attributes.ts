// An export's time-format and time-zone-name attributes, validated with Yeti's messages (customer and operator create).
import type { FieldProblem } from "../errors";
import { isValidTimeZone, TIME_FORMATS, type TimeFormat } from "../file-format/time-format";

/** time-format and time-zone-name, validated as Yeti does (absent = with_timezone, UTC). */
export function exportFormatAttributes(
  attributes: Record<string, unknown>,
  problems: FieldProblem[],
): { timeFormat: TimeFormat; timeZoneName: string | null } {
  const zone = attributes["time-zone-name"];
  let timeZoneName: string | null = null;
  if (zone !== undefined && zone !== null && zone !== "") {
    if (typeof zone === "string" && isValidTimeZone(zone)) timeZoneName = zone;
    else
      problems.push({
        key: "time-zone-name",
        message: "is not included in the list",
        pointer: "/data/attributes/time-zone-name",
      });
  }
  const format = attributes["time-format"];
  let timeFormat: TimeFormat = "with_timezone";
  if (format !== undefined && format !== null) {
    if (TIME_FORMATS.includes(format as TimeFormat)) timeFormat = format as TimeFormat;
    else
      problems.push({
        key: "time-format",
        message: `is not included in the list: ${TIME_FORMATS.join(", ")}`,
        pointer: "/data/attributes/time-format",
      });
  }
  return { timeFormat, timeZoneName };
}
