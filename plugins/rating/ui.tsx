/**
 * The rating field type's widget in the web UI: stars, read-only in lists and cards, editable in forms.
 * Registered through the same registry as the built-in widgets (runtime-ui/src/widgets/registry.ts);
 * the UI picks up every plugins/<name>/ui.tsx when it is built.
 */
import { Rate } from 'antd';
import type { WidgetProps } from '@rjsf/utils';
import { registerWidget } from '../../runtime-ui/src/widgets/registry';

function RatingWidget(props: WidgetProps) {
  const max = Number((props.options as { max?: number })?.max ?? props.schema.maximum ?? 5);
  return (
    <Rate
      id={props.id}
      aria-label={props.label || props.name}
      count={max}
      value={typeof props.value === 'number' ? props.value : 0}
      disabled={props.readonly || props.disabled}
      onChange={(v) => props.onChange(v === 0 ? undefined : v)}
    />
  );
}

registerWidget('rating', {
  cell: (value, ctx) =>
    typeof value === 'number' ? (
      <Rate
        disabled
        count={Number(ctx.options.max ?? 5)}
        value={value}
        style={{ fontSize: 13 }}
        aria-label={`${value} / ${ctx.options.max ?? 5}`}
      />
    ) : null,
  form: RatingWidget,
});
