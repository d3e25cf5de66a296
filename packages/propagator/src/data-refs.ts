/** WESTPA's data_refs templates, rendered the way WESTPA does: `str.format` on the template, then `expandvars`. */
import { expandPath, parseTemplate, renderTemplate, type TemplatePart } from '@westream/config';
import type { BasisStateInfo, InitialStateInfo } from './types.js';

export interface SegmentFields {
  readonly n_iter: number;
  readonly seg_id: number;
  readonly weight?: number;
  readonly parent_id?: number;
}

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

  segment(seg: SegmentFields): string {
    return this.render(this.templates.segment, { segment: { status: 1, endpoint_type: 0, weight: 0, parent_id: 0, ...seg } });
  }

  basisState(b: BasisStateInfo): string {
    return this.render(this.templates.basisState, { basis_state: basisFields(b) });
  }

  initialState(i: InitialStateInfo): string {
    return this.render(this.templates.initialState, { initial_state: initialFields(i) });
  }
}

export function basisFields(b: BasisStateInfo): Record<string, unknown> {
  return { state_id: b.id, label: b.label, probability: b.probability, auxref: b.auxref };
}

export function initialFields(i: InitialStateInfo): Record<string, unknown> {
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
