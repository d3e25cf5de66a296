/**
 * The base of westream's user-facing errors: a class with a name and a stable code, which the CLI's error
 * catalogue (packages/cli/src/error-catalogue.ts) maps to an exit code and a documented meaning.
 * A declaration is one line: the class, extending codedError of its name and code, with an empty body.
 */
export function codedError(name: string, code: string) {
  return class extends Error {
    readonly code: string = code;
    constructor(message: string) {
      super(message);
      this.name = name;
    }
  };
}
