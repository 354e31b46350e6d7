/** Is this an IANA time zone the runtime knows (Asia/Shanghai, UTC …)? */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
