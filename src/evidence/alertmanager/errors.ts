// What can be wrong with an Alertmanager configuration or an API request, each a named error carrying where.

/** The alertmanager.yaml does not parse or asks for something we do not do; `path` names the field. */
export class AlertmanagerConfigError extends Error {
  override readonly name = 'AlertmanagerConfigError';
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(path ? `alertmanager config: ${path}: ${problem}` : `alertmanager config: ${problem}`);
  }
}

/** A matcher string or object that is not valid Alertmanager matcher syntax. */
export class MatcherError extends Error {
  override readonly name = 'MatcherError';
  constructor(
    readonly input: string,
    readonly problem: string,
  ) {
    super(`bad matcher ${JSON.stringify(input)}: ${problem}`);
  }
}

/** A Go template that does not parse, or uses a construct or function outside the subset we implement. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  constructor(
    readonly template: string,
    readonly problem: string,
  ) {
    super(`template: ${problem}`);
  }
}
