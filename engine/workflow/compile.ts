/**
 * Compiles workflow documents to xstate v5 machines. The machine is the authority on which event
 * leads where and whether its guard holds; the record's state field and the history table are what
 * persists (the machine holds no state between requests: it is resolved from the record each time).
 */
import { createMachine, transition, type AnyStateMachine } from 'xstate';
import type { WorkflowDoc, WorkflowTransition } from './kind.js';
import { evaluateRule, isTruthy } from '../rules/evaluate.js';
import type { CompiledEntity, EntityWorkflow } from '../model/compile.js';

export interface MachineEvent {
  type: string;
  /** json-logic data the guard sees: the record, $user, $input, $now. */
  data: Record<string, unknown>;
}

/** The machine of a workflow document (the model holds it as an EntityWorkflow). */
export interface CompiledWorkflow extends EntityWorkflow {
  doc: WorkflowDoc;
  machine: AnyStateMachine;
  /** Does this workflow serve the record (several may serve one entity)? */
  applies(record: Record<string, unknown>): boolean;
  transition(state: string, event: string): WorkflowTransition | undefined;
  /** The state the machine moves to, or undefined when the event is not possible (no such event, guard fails). */
  next(state: string, event: MachineEvent): string | undefined;
}

const guardKey = (state: string, event: string) => `${state}.${event}`;

/**
 * A document's own entry, never one inherited from Object.prototype: an event named `constructor`,
 * `__proto__` or `toString` comes from the URL and must be unknown, not a function.
 */
const own = <T>(o: Record<string, T> | undefined, key: string): T | undefined =>
  o && Object.hasOwn(o, key) ? o[key] : undefined;

export function compileWorkflow(doc: WorkflowDoc): CompiledWorkflow {
  const guards: Record<string, (args: { event: MachineEvent }) => boolean> = {};
  const states = Object.fromEntries(
    Object.entries(doc.states).map(([state, node]) => [
      state,
      {
        ...(node.type === 'final' ? { type: 'final' as const } : {}),
        on: Object.fromEntries(
          Object.entries(node.on ?? {}).map(([event, t]) => {
            if (t.guard === undefined) return [event, { target: t.target }];
            guards[guardKey(state, event)] = ({ event: e }) => isTruthy(evaluateRule(t.guard, e.data));
            return [event, { target: t.target, guard: guardKey(state, event) }];
          }),
        ),
      },
    ]),
  );
  const machine = createMachine({ id: doc.name, initial: doc.initial, states }, { guards: guards as never });
  return {
    doc,
    machine,
    applies: (record) => doc.appliesWhen === undefined || isTruthy(evaluateRule(doc.appliesWhen, record)),
    transition: (state, event) => own(own(doc.states, state)?.on, event),
    next(state, event) {
      if (!own(own(doc.states, state)?.on, event.type)) return undefined;
      const snapshot = machine.resolveState({ value: state, context: {} });
      const [after] = transition(machine, snapshot, event as never);
      const to = String(after.value);
      // Staying put is either a self-transition or a guard that does not hold: only then ask which (it runs the guard again).
      if (to === state && !snapshot.can(event as never)) return undefined;
      return to;
    },
  };
}

/** An entity's workflows as the machines the workflow kind compiled them to (engine/workflow/kind.ts compile). */
export const workflowsOf = (entity: CompiledEntity) => entity.workflows as CompiledWorkflow[];
