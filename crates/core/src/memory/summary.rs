//! Rolling summaries: what left the window, summarised per path.
