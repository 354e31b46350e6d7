/**
 * Compiles an approval document onto the same xstate machinery as workflows. The machine knows the
 * route of a request: which step comes next (skipping steps whose entry criteria do not hold, with
 * eventless transitions), where a rejection leads (final, the previous applicable step, or back to
 * the submitter), and the terminal outcomes. Counting votes within a step (first / any / all /
 * percent) happens before an APPROVE or REJECT event is sent: the machine sees a step's outcome.
 *
 *   idle ──SUBMIT──▶ enter:s1 ─(when s1)─▶ step:s1 ──APPROVE──▶ enter:s2 … ─▶ approved
 *                        └─(otherwise)─▶ enter:s2          └─REJECT─▶ rejected | returned | back:s0 …
 */
import { createMachine, transition, type AnyStateMachine } from 'xstate';
import type { ApprovalDoc, ApprovalStep } from './kind.js';
import { evaluateRule, isTruthy } from '../rules/evaluate.js';

export type ApprovalEvent = 'SUBMIT' | 'APPROVE' | 'REJECT' | 'RECALL';
/** Where a request rests: a step awaiting decisions, or an outcome. */
export type Resting = { step: ApprovalStep; index: number } | { outcome: 'approved' | 'rejected' | 'returned' | 'recalled' };

export interface CompiledApproval {
  doc: ApprovalDoc;
  machine: AnyStateMachine;
  /** Where `event` leads from `from` (a step name, or 'idle'), given the record data the criteria read. */
  next(from: string, event: ApprovalEvent, data: Record<string, unknown>): Resting;
}

const stepState = (s: ApprovalStep) => `step:${s.name}`;

export function compileApproval(doc: ApprovalDoc): CompiledApproval {
  const steps = doc.steps;
  const enter = (i: number) => (i < steps.length ? `enter:${steps[i].name}` : 'approved');
  const back = (i: number) => (i >= 0 ? `back:${steps[i].name}` : 'returned');
  const applies = (i: number) => `applies:${steps[i].name}`;
  const guards: Record<string, (args: { context: { data: Record<string, unknown> } }) => boolean> = {};
  const states: Record<string, object> = {
    idle: { on: { SUBMIT: enter(0) } },
    approved: { type: 'final' },
    rejected: { type: 'final' },
    returned: { type: 'final' },
    recalled: { type: 'final' },
  };
  steps.forEach((step, i) => {
    guards[applies(i)] = ({ context }) => step.when === undefined || isTruthy(evaluateRule(step.when, context.data));
    states[enter(i)] = { always: [{ guard: applies(i), target: stepState(step) }, { target: enter(i + 1) }] };
    states[back(i)] = { always: [{ guard: applies(i), target: stepState(step) }, { target: back(i - 1) }] };
    const onReject = step.onReject ?? 'final';
    states[stepState(step)] = {
      on: {
        APPROVE: enter(i + 1),
        REJECT: onReject === 'final' ? 'rejected' : onReject === 'submitter' ? 'returned' : back(i - 1),
        RECALL: 'recalled',
      },
    };
  });
  const machine = createMachine(
    { id: doc.name, initial: 'idle', context: { data: {} }, states: states as never },
    { guards: guards as never },
  );
  return {
    doc,
    machine,
    next(from, event, data) {
      const value = from === 'idle' ? 'idle' : `step:${from}`;
      const snapshot = machine.resolveState({ value, context: { data } });
      const [after] = transition(machine, snapshot, { type: event } as never);
      const to = String(after.value);
      if (to === value) throw new Error(`${event} is not possible from ${value}`);
      if (to.startsWith('step:')) {
        const index = steps.findIndex((s) => stepState(s) === to);
        return { step: steps[index], index };
      }
      return { outcome: to as 'approved' };
    },
  };
}

/** Decides a step from its votes: approve, reject, or undefined while it is open. */
export function stepOutcome(
  step: ApprovalStep,
  votes: { approved: number; rejected: number; pending: number },
): 'APPROVE' | 'REJECT' | undefined {
  const total = votes.approved + votes.rejected + votes.pending;
  switch (step.mode ?? 'first') {
    case 'first':
      return votes.approved ? 'APPROVE' : votes.rejected ? 'REJECT' : undefined;
    case 'any': // 或签: one approval suffices; rejected only when nobody is left to approve
      return votes.approved ? 'APPROVE' : votes.pending === 0 ? 'REJECT' : undefined;
    case 'all': // 会签: everyone must approve
      return votes.rejected ? 'REJECT' : votes.approved === total ? 'APPROVE' : undefined;
    case 'percent': {
      const needed = (step.percent! / 100) * total;
      if (votes.approved >= needed - 1e-9) return 'APPROVE';
      return votes.approved + votes.pending < needed - 1e-9 ? 'REJECT' : undefined;
    }
  }
}
