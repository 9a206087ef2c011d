/** Log readers: pure line → record functions, one per log kind. */
export { type LogReader, parseClfTime, parseIsoTime, tokenize } from "./reader.js";
export { nginxAccessReader, compileFormat, COMBINED_FORMAT, type NginxAccessFormat } from "./nginx-access.js";
export { nginxErrorReader, parseNginxErrorLine } from "./nginx-error.js";
export { haproxyReader, parseHaproxyLine } from "./haproxy.js";
export { albReader, parseAlbLine } from "./alb.js";
export { appLogReader, parseAppLine } from "./app-log.js";
