/** Where Strata reports operational problems it handles itself (nothing is thrown for them). */
export interface StrataLogger {
  warn(message: string, details?: Record<string, unknown>): void;
}

/** The default logger: `console.warn`. */
export const consoleLogger: StrataLogger = {
  warn(message, details) {
    if (details === undefined) console.warn(message);
    else console.warn(message, details);
  },
};
