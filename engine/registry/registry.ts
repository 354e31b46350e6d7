import type { ActionDefinition, DocumentKindDefinition, FieldTypeDefinition, Plugin, RegistryView } from './types.js';

type Operation = NonNullable<Plugin['operations']>[number];

/**
 * Holds every contribution: the core's and the plugins'. Registration happens once at start-up;
 * afterwards the registry is only read (by the metadata validator and the model compiler).
 */
export class Registry implements RegistryView {
  private readonly types = new Map<string, FieldTypeDefinition>();
  private readonly kinds = new Map<string, DocumentKindDefinition>();
  private readonly actionTypes = new Map<string, ActionDefinition>();
  private readonly operationList: Operation[] = [];
  readonly plugins: string[] = [];

  use(plugin: Plugin): this {
    if (this.plugins.includes(plugin.name)) throw new Error(`Plugin "${plugin.name}" is loaded twice`);
    for (const type of plugin.fieldTypes ?? []) this.addUnique(this.types, type.name, type, 'field type', plugin);
    for (const kind of plugin.documentKinds ?? []) this.addUnique(this.kinds, kind.kind, kind, 'document kind', plugin);
    for (const action of plugin.actions ?? []) this.addUnique(this.actionTypes, action.type, action, 'workflow action', plugin);
    // Added to json-logic by the composition root (engine/engine.ts): the registry only collects.
    this.operationList.push(...(plugin.operations ?? []));
    this.plugins.push(plugin.name);
    return this;
  }

  action(type: string) {
    return this.actionTypes.get(type);
  }
  actions() {
    return [...this.actionTypes.values()];
  }
  fieldType(name: string) {
    return this.types.get(name);
  }
  fieldTypes() {
    return [...this.types.values()];
  }
  documentKind(kind: string) {
    return this.kinds.get(kind);
  }
  documentKinds() {
    return [...this.kinds.values()];
  }
  /** json-logic operations contributed (engine/rules/evaluate.ts registerOperation adds them to the language). */
  operations(): readonly Operation[] {
    return this.operationList;
  }

  private addUnique<T>(map: Map<string, T>, key: string, value: T, what: string, plugin: Plugin) {
    if (map.has(key)) throw new Error(`Plugin "${plugin.name}" redefines ${what} "${key}"`);
    map.set(key, value);
  }
}
