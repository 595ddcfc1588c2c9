"""Pure: typed rows in, numbers out (funnel, sales, stats, comparisons, periods, alerts, money)."""
