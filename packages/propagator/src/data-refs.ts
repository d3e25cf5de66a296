/** WESTPA's data_refs templates, rendered the way WESTPA does: `str.format` on the template, then `expandvars`. */
import { expandPath, parseTemplate, renderTemplate, type TemplatePart } from '@westream/config';
import type { BasisState, InitialState, SegmentTemplateFields } from '@westream/we';

export class DataRefs {
  private readonly cache = new Map<string, TemplatePart[]>();
  constructor(
    private readonly templates: { readonly segment: string; readonly basisState: string; readonly initialState: string },
    private readonly env: Readonly<Record<string, string | undefined>>,
  ) {}

  render(template: string, values: Readonly<Record<string, unknown>>): string {
    let parts = this.cache.get(template);
    if (!parts) this.cache.set(template, (parts = parseTemplate(template)));
    return expandPath(renderTemplate(parts, values), this.env);
  }

  /** data_refs.segment for a segment (segmentTemplateFields of @westream/we). */
  segment(segment: SegmentTemplateFields): string {
    return this.render(this.templates.segment, { segment });
  }

  basisState(b: BasisState): string {
    return this.render(this.templates.basisState, { basis_state: basisFields(b) });
  }

  initialState(i: InitialState): string {
    return this.render(this.templates.initialState, { initial_state: initialFields(i) });
  }
}

export function basisFields(b: BasisState): Record<string, unknown> {
  return { state_id: b.id, label: b.label, probability: b.probability, auxref: b.auxref };
}

export function initialFields(i: InitialState): Record<string, unknown> {
  return {
    state_id: i.id,
    iter_created: i.iterCreated,
    iter_used: i.iterUsed,
    basis_state_id: i.basisStateId,
    istate_type: i.type,
    istate_status: i.status,
    basis_auxref: i.basisAuxref,
  };
}
