import { type TaskPlugin, TaskRegistry } from "@padt/task-api";

/**
 * Loads task plugins by module specifier (each module's default export is the plugin) and
 * registers them; the registry checks each plugin's metadata, so a broken one fails here.
 */
export async function loadTasks(specifiers: readonly string[]): Promise<TaskRegistry> {
  const registry = new TaskRegistry();
  for (const specifier of specifiers) {
    const module = (await import(specifier)) as { default?: TaskPlugin };
    if (!module.default) throw new Error(`task module "${specifier}" has no default export`);
    registry.register(module.default);
  }
  return registry;
}
