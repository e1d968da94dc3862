/**
 * The AWS SDK warns on load that its releases from 2027 will need Node 22 (NodeVersionSupportWarning). On a
 * user's terminal, at the top of the demo or all over the test output, that is noise: this drops that one
 * warning (`onDropped` may log it) and lets every other warning through.
 */
export function quietSdkWarnings(onDropped?: () => void): void {
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = warning instanceof Error ? `${warning.name} ${warning.message}` : String(warning);
    if (
      text.includes('NodeVersionSupportWarning') ||
      JSON.stringify(rest).includes('NodeVersionSupportWarning')
    ) {
      onDropped?.();
      return;
    }
    emit(warning, ...rest);
  }) as typeof process.emitWarning;
}
