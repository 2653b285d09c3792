/** The label value every value past the bound shares. */
export const OTHER_LABEL = 'other';

/**
 * A model as a label: its catalog name, or `other` when the catalog does not know it (the model
 * is whatever a client sent; issue 17). Unchanged without a catalog, for null, and for the models
 * named in `known`.
 */
export function catalogModel(
  model: string | null,
  modelName: ((model: string) => string | null) | undefined,
  known?: ReadonlySet<string>,
): string | null {
  if (model === null || !modelName || known?.has(model)) return model;
  return modelName(model) ?? OTHER_LABEL;
}

/**
 * Keeps a metric label's cardinality bounded: the first `max` distinct values seen keep their own
 * label, every later one is reported as `other`. First-come rather than a moving top-N on purpose:
 * a label that changed its meaning mid-run would break every rate() over it (Prometheus
 * "Instrumentation" best practices: avoid unbounded and churning label values).
 * Values named in `always` keep their own label whatever the order.
 */
export class BoundedLabels {
  private readonly kept = new Set<string>();
  private readonly always: ReadonlySet<string>;

  constructor(
    private readonly max: number,
    always: readonly string[] = [],
  ) {
    this.always = new Set(always);
  }

  /** The label to use for `value` (`unknown` for null). */
  label(value: string | null): string {
    const v = value ?? 'unknown';
    if (this.kept.has(v) || this.always.has(v)) return v;
    if (this.kept.size >= this.max) return OTHER_LABEL;
    this.kept.add(v);
    return v;
  }
}
