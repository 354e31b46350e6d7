/**
 * The calendar of any entity whose view declares one (`calendar: { start, end, title, color, people }`):
 * day, week, month and list, "mine" (records I own or that list me in the people field) or "my team's"
 * (every record I may read: my department's, shared ones…). Dragging an event (or resizing it) writes the
 * new start and end through PATCH with the record's version; a refusal or a 409 puts it back and reloads.
 * Clicking an event opens the record, clicking an empty slot opens a new record starting there.
 * Times are laid out in the user's time zone (time-zone.ts) through FullCalendar's Luxon plugin; in a
 * named zone FullCalendar's Date objects carry the zone's wall clock in their UTC fields, so instants are
 * taken from its ISO strings (`startStr`, `dateStr`), which carry the zone's offset.
 * FullCalendar (MIT) and Luxon are loaded with this page only.
 */
import { useMemo, useRef, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { Alert, App, Button, Grid, Segmented, Skeleton } from 'antd';
import { UnorderedListOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import FullCalendar from '@fullcalendar/react';
import dayGridPlugin from '@fullcalendar/daygrid';
import timeGridPlugin from '@fullcalendar/timegrid';
import interactionPlugin from '@fullcalendar/interaction';
import listPlugin from '@fullcalendar/list';
import luxonPlugin from '@fullcalendar/luxon3';
import zhCnLocale from '@fullcalendar/core/locales/zh-cn';
import type { DatesSetArg, EventDropArg, EventInput } from '@fullcalendar/core';
import type { DateClickArg, EventResizeDoneArg } from '@fullcalendar/interaction';
import { api, ApiError, errorText, get, qs } from '../api';
import { useEntityPage } from '../entity-page';
import { useLang } from '../i18n';
import { titleOf } from '../widgets/cells';
import { instantOf, userTimeZone } from '../time-zone';
import './calendar.css';

const LIMIT = 500;
/** The day ('YYYY-MM-DD') n days after another (date fields have no time zone). */
const addDays = (day: string, n: number) => {
  const d = new Date(`${day.slice(0, 10)}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
};
/** The instant an ISO string of FullCalendar's names (it carries the calendar zone's offset). */
const instant = (iso: string) => new Date(iso).toISOString();
/** Colours antd's preset tags use, for dictionary items coloured by name. */
const PRESET: Record<string, string> = {
  blue: '#1677ff', green: '#389e0d', red: '#cf1322', orange: '#d46b08', gold: '#d48806', purple: '#531dab',
  cyan: '#08979c', magenta: '#c41d7f', volcano: '#d4380d', geekblue: '#1d39c4', lime: '#7cb305', default: '#595959',
};

export default function CalendarPage() {
  const { entity = '' } = useParams();
  const { lang, t } = useLang();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const page = useEntityPage(entity);
  const { model, view, fields, me } = page;
  const cal = view?.calendar ?? null;
  const phone = !Grid.useBreakpoint().md;
  const [scope, setScope] = useState<'mine' | 'team'>('mine');
  /** The visible range as FullCalendar's ISO strings (with the zone's offset; days alone for all-day views). */
  const [range, setRange] = useState<{ from: string; to: string } | null>(null);
  // Time grids get a fixed height (their hours scroll, opening at 08:00); month and list grow with their content.
  const [timeGrid, setTimeGrid] = useState(false);
  const calendarRef = useRef<FullCalendar>(null);
  const allDay = cal ? fields.get(cal.start)?.type === 'date' : false;
  const titleField = cal?.title ?? model?.entity.titleField ?? undefined;
  const shown = cal ? [...new Set([cal.start, cal.end, titleField, cal.color, cal.people].filter((f): f is string => Boolean(f)))].filter((f) => fields.has(f)) : [];

  const filter = useMemo(() => {
    if (!cal || !range) return undefined;
    const bound = (iso: string) => (allDay ? iso.slice(0, 10) : instant(iso));
    const endField = cal.end ?? cal.start;
    // Overlaps the visible range: starts before its end and ends (or, without an end, starts) after its start.
    const parts: unknown[] = [
      { '<': [{ var: cal.start }, bound(range.to)] },
      {
        or: [
          { '>=': [{ var: endField }, bound(range.from)] },
          { and: [{ '==': [{ var: endField }, null] }, { '>=': [{ var: cal.start }, bound(range.from)] }] },
        ],
      },
    ];
    if (scope === 'mine') {
      const mine: unknown[] = [{ '==': [{ var: 'owner_id' }, { var: '$user.id' }] }];
      if (cal.people && fields.has(cal.people)) mine.push({ in: [{ var: '$user.id' }, { var: cal.people }] });
      parts.push(mine.length === 1 ? mine[0] : { or: mine });
    }
    return JSON.stringify({ and: parts });
  }, [cal, range, scope, allDay, fields]);

  const records = useQuery({
    queryKey: ['list', entity, 'calendar', filter, shown.join(',')],
    enabled: page.ready && Boolean(filter),
    queryFn: () => get(`/api/data/${entity}${qs({ filter, limit: LIMIT, sort: cal!.start, fields: ['version', ...shown].join(',') })}`),
    placeholderData: (previous) => previous,
  });

  const colorOf = (r: any) => {
    if (!cal?.color) return undefined;
    const c = fields.get(cal.color)?.options?.find((o) => o.value === r[cal.color!])?.color;
    return c ? (PRESET[c] ?? c) : undefined;
  };
  const events: EventInput[] = useMemo(() => {
    if (!cal) return [];
    return ((records.data?.data ?? []) as any[])
      .filter((r) => r[cal.start])
      .map((r) => {
        const end = cal.end ? r[cal.end] : null;
        return {
          id: r.id,
          title: titleOf(r, titleField) || '—',
          start: r[cal.start],
          // FullCalendar ends all-day events exclusively: a record ending on the 5th covers the 5th.
          end: end ? (allDay ? addDays(end, 1) : end) : undefined,
          allDay,
          color: colorOf(r),
          extendedProps: { record: r },
        };
      });
    // biome-ignore lint/correctness/useExhaustiveDependencies: colorOf reads cal and fields, listed
  }, [records.data, cal, titleField, allDay, fields]);

  if (page.error) return <Alert type="error" showIcon message={(page.error as Error).message} />;
  if (!page.ready || !model || !me) return <Skeleton active />;
  if (!cal) return <Alert type="info" message={t('empty')} />;
  const mayUpdate = page.can('update');
  const mayCreate = page.can('create');

  /** Writes the new times; puts the event back when the server refuses (409 reloads the records). */
  const reschedule = async (arg: EventDropArg | EventResizeDoneArg) => {
    const record = arg.event.extendedProps.record as any;
    const { startStr, endStr } = arg.event;
    const body: Record<string, unknown> = { version: record.version };
    if (allDay) {
      body[cal.start] = startStr.slice(0, 10);
      if (cal.end) body[cal.end] = endStr ? addDays(endStr, -1) : startStr.slice(0, 10);
    } else {
      body[cal.start] = instant(startStr);
      if (cal.end) body[cal.end] = endStr ? instant(endStr) : new Date(Date.parse(startStr) + 3_600_000).toISOString();
    }
    try {
      await api('PATCH', `/api/data/${entity}/${record.id}`, body);
      message.success(t('rescheduled'));
    } catch (e) {
      arg.revert();
      if (e instanceof ApiError && e.code === 'version_conflict') message.warning(t('calConflict'));
      else message.error(errorText(e));
    } finally {
      void queryClient.invalidateQueries({ queryKey: ['list', entity] });
      void queryClient.invalidateQueries({ queryKey: ['record', entity, record.id] });
    }
  };

  const create = (arg: DateClickArg) => {
    if (!mayCreate) return;
    const params: Record<string, string> = {};
    if (allDay) {
      params[cal.start] = arg.dateStr.slice(0, 10);
      if (cal.end) params[cal.end] = arg.dateStr.slice(0, 10);
    } else {
      // A day clicked in the month view starts at 09:00 that day in the user's zone; a time slot at its time. One hour long.
      const [year, month, day] = arg.dateStr.slice(0, 10).split('-').map(Number);
      const start = arg.allDay ? instantOf({ year, month, day, hour: 9 }) : new Date(arg.dateStr);
      params[cal.start] = start.toISOString();
      if (cal.end) params[cal.end] = new Date(start.getTime() + 3_600_000).toISOString();
    }
    navigate(`/r/${entity}/new${qs(params)}`);
  };

  const views = phone ? 'listWeek,timeGridDay,dayGridMonth' : 'dayGridMonth,timeGridWeek,timeGridDay,listWeek';
  return (
    <>
      <div className="mc-page-title" style={{ flexWrap: 'wrap', gap: 8 }}>
        <h1>{page.pluralLabel} · {t('calendar')}</h1>
        <span style={{ flex: 1 }} />
        <Segmented value={scope} onChange={(v) => setScope(v as 'mine' | 'team')} data-testid="calendar-scope"
          options={[{ value: 'mine', label: t('calMine') }, { value: 'team', label: t('calTeam') }]} />
        <Button icon={<UnorderedListOutlined />} onClick={() => navigate(`/l/${entity}`)}>{t('list')}</Button>
      </div>
      {records.error && <Alert type="error" showIcon message={(records.error as Error).message} style={{ marginBottom: 8 }} />}
      <div className="mc-calendar" data-testid="calendar" aria-busy={records.isFetching}>
        <FullCalendar
          ref={calendarRef}
          key={`${lang}-${phone}-${userTimeZone()}`}
          plugins={[dayGridPlugin, timeGridPlugin, interactionPlugin, listPlugin, luxonPlugin]}
          timeZone={userTimeZone()}
          locales={[zhCnLocale]}
          locale={lang === 'zh-CN' ? 'zh-cn' : 'en'}
          initialView={phone ? 'listWeek' : allDay ? 'dayGridMonth' : 'timeGridWeek'}
          headerToolbar={phone ? { left: 'prev,next', center: 'title', right: 'today' } : { left: 'prev,next today', center: 'title', right: views }}
          footerToolbar={phone ? { center: views } : undefined}
          buttonText={{ today: t('calToday'), month: t('calMonth'), week: t('calWeek'), day: t('calDay'), list: t('calList') }}
          height={timeGrid ? (phone ? 600 : 680) : 'auto'}
          nowIndicator
          scrollTime="08:00:00"
          allDaySlot={allDay || !cal.end}
          events={events}
          editable={mayUpdate}
          eventDurationEditable={mayUpdate && Boolean(cal.end)}
          eventDrop={(arg) => void reschedule(arg)}
          eventResize={(arg) => void reschedule(arg)}
          eventClick={(arg) => {
            arg.jsEvent.preventDefault();
            navigate(`/r/${entity}/${arg.event.id}`);
          }}
          dateClick={create}
          eventDidMount={(arg) => {
            arg.el.setAttribute('data-event', arg.event.id);
            arg.el.setAttribute('title', arg.event.title);
          }}
          datesSet={(arg: DatesSetArg) => {
            setTimeGrid(arg.view.type.startsWith('timeGrid'));
            if (range?.from !== arg.startStr || range?.to !== arg.endStr) setRange({ from: arg.startStr, to: arg.endStr });
          }}
        />
      </div>
    </>
  );
}
