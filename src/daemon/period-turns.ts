/**
 * The timer that turns the periods of time-based sequence doors (totp-doors.ts): at each period
 * start of any such door it puts the new window's sequences in the tracker's lanes and, when a
 * lane changed, asks for the layout step (the capture filter and the hidden knock ports follow;
 * Daemon.applyLayout, which opens the new captures before closing the old ones).
 *
 * Through the injected Clock (a test moves a ManualClock across a period). The doors are read at
 * each turn, so after a reload the turns follow the doors in force; a turn that fires early (the
 * monotonic timer and the wall clock drift apart) changes nothing and is set again for the
 * boundary still ahead. Returns null without a time-based door.
 */

import type { SequenceTracker } from '../core/sequence.js';
import type { Clock, Timer } from '../ports/clock.js';
import type { TotpDoors } from './totp-doors.js';

export function watchPeriodTurns(
  clock: Clock,
  current: () => { readonly totp: TotpDoors; readonly tracker: SequenceTracker },
  layoutChanged: () => void,
): Timer | null {
  let timer: Timer | null = null;
  let cancelled = false;
  const arm = (): boolean => {
    const next = current().totp.nextTurnUnixMs(clock.unixMs());
    if (next === null || cancelled) return false;
    timer = clock.after(next - clock.unixMs(), () => {
      const { totp, tracker } = current();
      if (totp.turn(clock.unixMs(), tracker)) layoutChanged();
      arm();
    });
    return true;
  };
  if (!arm()) return null;
  return {
    cancel: () => {
      cancelled = true;
      timer?.cancel();
    },
  };
}
