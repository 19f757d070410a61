import { type RefObject, useEffect, useState } from "react";

/** The scale that fits `width` x `height` into the element's content box (0 until measured). */
export function useFit(pane: RefObject<HTMLElement | null>, width: number, height: number): number {
  const [size, setSize] = useState({ w: 0, h: 0 });
  useEffect(() => {
    const el = pane.current;
    if (!el) return;
    const measure = () => setSize({ w: el.clientWidth, h: el.clientHeight });
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, [pane]);
  if (!size.w || !size.h) return 0;
  return Math.min(size.w / width, size.h / height);
}
