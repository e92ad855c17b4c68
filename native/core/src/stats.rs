//! Streaming statistics: count, nodata count, min, max, sum, mean, standard deviation and an
//! optional histogram, computed block by block without building the grid. Values are taken
//! in the grid's data type (a Float32 grid's cells are rounded to f32 first), so the results
//! equal those of any tool reading the same grid through GDAL.

use std::cell::Cell;

use rayon::prelude::*;

use crate::body::{self, parse_chunk, Sink};
use crate::chunk::{self, Stop};
use crate::control::Control;
use crate::error::Error;
use crate::grid::{resolve_data_type, stop_error, Grid, GridData};
use crate::header::Header;
use crate::input::Input;
use crate::scan::has_float_marker_in;
use crate::source::HEADER_STEP;
use crate::stream::{BlockStream, BLOCK};
use crate::trailing;
use crate::value::{DataType, Value};
use crate::window::{ChunkText, InMemory, Opened, WindowedFile};

/// Histogram bins: `bins` equal-width bins over `[low, high]`, the last bin closed, values
/// outside ignored (numpy's `histogram` on the values as float64).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistogramSpec {
    /// Number of bins (at least 1).
    pub bins: usize,
    /// Left edge of the first bin.
    pub low: f64,
    /// Right edge of the last bin.
    pub high: f64,
}

impl HistogramSpec {
    /// `bins` bins over `[low, high]`, widened by half a unit each way when the range is
    /// empty (as numpy does).
    pub fn new(bins: usize, low: f64, high: f64) -> Self {
        if low == high {
            HistogramSpec {
                bins,
                low: low - 0.5,
                high: high + 0.5,
            }
        } else {
            HistogramSpec { bins, low, high }
        }
    }

    /// The `bins + 1` edges, computed as numpy's `linspace` computes them.
    pub fn edges(&self) -> Vec<f64> {
        let step = (self.high - self.low) / self.bins as f64;
        let mut e: Vec<f64> = (0..=self.bins)
            .map(|i| i as f64 * step + self.low)
            .collect();
        if let Some(last) = e.last_mut() {
            *last = self.high;
        }
        e
    }

    #[inline]
    fn bin(&self, x: f64, edges: &[f64]) -> Option<usize> {
        if !(x >= self.low && x <= self.high) {
            return None;
        }
        if self.high == self.low {
            return Some(0);
        }
        let scaled = (x - self.low) * (self.bins as f64 / (self.high - self.low));
        let mut i = (scaled as usize).min(self.bins - 1);
        // Same correction as numpy: the computed index may be one off next to an edge.
        if x < edges[i] && i > 0 {
            i -= 1;
        } else if i + 1 < self.bins && x >= edges[i + 1] {
            i += 1;
        }
        Some(i)
    }
}

/// Statistics of the valid cells (neither nodata nor NaN).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Summary {
    /// Valid cells.
    pub count: u64,
    /// Nodata (or NaN) cells.
    pub nodata_count: u64,
    /// Sum of valid values.
    pub sum: f64,
    /// Smallest valid value (`None` when there is none).
    pub min: Option<f64>,
    /// Largest valid value.
    pub max: Option<f64>,
    /// Mean of valid values.
    pub mean: f64,
    /// Sum of squared deviations from the mean (the variance's numerator; often called
    /// M2, and QGIS's `SUM_OF_SQUARES`).
    pub sum_of_squared_deviations: f64,
    /// Histogram counts, when asked for.
    pub histogram: Option<Vec<u64>>,
    /// The grid's data type (of the first source, for a combination).
    pub data_type: Option<DataType>,
}

impl Summary {
    /// A summary computed elsewhere (per-file statistics kept from another run, QGIS's
    /// statistics of another raster), checked so that merging it cannot give statistics no
    /// set of cells has: what lets [`Summary::merge`] be the only merge. With no valid cells
    /// it describes none (zero sum and deviations, no extremes), whatever it said.
    pub fn checked(self) -> Result<Summary, Error> {
        if self.count == 0 {
            return Ok(Summary {
                nodata_count: self.nodata_count,
                histogram: self.histogram,
                data_type: self.data_type,
                ..Summary::default()
            });
        }
        match (self.min, self.max) {
            (Some(low), Some(high)) if low <= high && !self.mean.is_nan() => {}
            (min, max) => {
                return Err(Error::Invalid(format!(
                    "a summary of {} valid cells needs min <= max and a mean, got min {min:?}, \
                     max {max:?}, mean {}",
                    self.count, self.mean
                )))
            }
        }
        let deviations = self.sum_of_squared_deviations;
        if deviations.is_nan() || deviations < 0.0 {
            return Err(Error::Invalid(format!(
                "sum_of_squared_deviations must be at least 0, got {deviations}"
            )));
        }
        Ok(self)
    }

    /// [`Summary::merge`] of a summary whose histogram, if both have one, has as many bins
    /// as this one's (bins of other edges cannot be added up).
    pub fn merge_checked(self, other: &Summary) -> Result<Summary, Error> {
        if let (Some(mine), Some(theirs)) = (&self.histogram, &other.histogram) {
            if mine.len() != theirs.len() {
                return Err(Error::Invalid(format!(
                    "a histogram of {} bins cannot be merged with one of {} bins",
                    theirs.len(),
                    mine.len()
                )));
            }
        }
        Ok(self.merge(other))
    }

    /// Population standard deviation.
    pub fn std(&self) -> Option<f64> {
        (self.count > 0).then(|| (self.sum_of_squared_deviations / self.count as f64).sqrt())
    }

    /// Combine two summaries (Chan et al.'s parallel formula).
    pub fn merge(mut self, other: &Summary) -> Summary {
        if other.count > 0 {
            let n = self.count + other.count;
            let delta = other.mean - self.mean;
            self.mean += delta * (other.count as f64 / n as f64);
            self.sum_of_squared_deviations += other.sum_of_squared_deviations
                + delta * delta * (self.count as f64 * other.count as f64 / n as f64);
            self.count = n;
            self.sum += other.sum;
            self.min = match (self.min, other.min) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            self.max = match (self.max, other.max) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
        self.nodata_count += other.nodata_count;
        if let Some(theirs) = &other.histogram {
            match &mut self.histogram {
                Some(mine) => mine.iter_mut().zip(theirs).for_each(|(a, b)| *a += b),
                None => self.histogram = Some(theirs.clone()),
            }
        }
        self.data_type = self.data_type.or(other.data_type);
        self
    }
}

/// Accumulates one chunk: sums around the chunk's first value keep the variance accurate
/// without a division per value.
struct ChunkStats<'h> {
    remaining: u64,
    nodata: Option<f64>,
    count: u64,
    nodata_count: u64,
    shift: f64,
    s1: f64,
    s2: f64,
    sum: f64,
    min: f64,
    max: f64,
    histogram: Option<(&'h HistogramSpec, &'h [f64], Vec<u64>)>,
}

impl<'h> ChunkStats<'h> {
    fn new(
        remaining: u64,
        nodata: Option<f64>,
        hist: Option<(&'h HistogramSpec, &'h [f64])>,
    ) -> Self {
        ChunkStats {
            remaining,
            nodata,
            count: 0,
            nodata_count: 0,
            shift: 0.0,
            s1: 0.0,
            s2: 0.0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            histogram: hist.map(|(s, e)| (s, e, vec![0; s.bins])),
        }
    }

    fn finish(self, data_type: DataType) -> Summary {
        let n = self.count as f64;
        let (mean, m2) = if self.count > 0 {
            (
                self.shift + self.s1 / n,
                (self.s2 - self.s1 * self.s1 / n).max(0.0),
            )
        } else {
            (0.0, 0.0)
        };
        Summary {
            count: self.count,
            nodata_count: self.nodata_count,
            sum: self.sum,
            min: (self.count > 0).then_some(self.min),
            max: (self.count > 0).then_some(self.max),
            mean,
            sum_of_squared_deviations: m2,
            histogram: self.histogram.map(|(_, _, h)| h),
            data_type: Some(data_type),
        }
    }
}

impl<T: Value> Sink<T> for ChunkStats<'_> {
    #[inline(always)]
    fn push(&mut self, value: T) -> bool {
        if self.remaining == 0 {
            return false;
        }
        self.remaining -= 1;
        let x = value.to_f64();
        if x.is_nan() || Some(x) == self.nodata {
            self.nodata_count += 1;
            return true;
        }
        if self.count == 0 {
            self.shift = x;
        }
        self.count += 1;
        let d = x - self.shift;
        self.s1 += d;
        self.s2 += d * d;
        self.sum += x;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        if let Some((spec, edges, counts)) = &mut self.histogram {
            if let Some(i) = spec.bin(x, edges) {
                counts[i] += 1;
            }
        }
        true
    }
}

/// The data type a grid's values are taken in: forced, or the header's rule, or (reading
/// ahead only until the first float marker) the body's.
pub(crate) fn data_type_of(
    input: Input<'_>,
    name: &str,
    forced: Option<DataType>,
    header: &Header,
) -> Result<DataType, Error> {
    if let Some(t) = forced.or_else(|| header.nodata_data_type()) {
        return Ok(t);
    }
    let mut stream = BlockStream::open(input, name)?;
    // The first float marker is almost always near the start: read a little first, then
    // whole blocks (reading and scanning a whole 8 MiB block cost a 110 MB grid's xarray
    // open 5.5 ms, half its time).
    let mut limit = HEADER_STEP;
    while stream.next_block_within(limit)?.is_some() {
        if has_float_marker_in(stream.block()) {
            return Ok(DataType::Float32);
        }
        limit = BLOCK;
    }
    Ok(resolve_data_type(None, header, false))
}

/// Statistics of one source.
pub fn summarize(
    input: Input<'_>,
    name: &str,
    forced: Option<DataType>,
    histogram: Option<&HistogramSpec>,
    control: &Control,
) -> Result<Summary, Error> {
    let stopped = Cell::new(None);
    let err = match summarize_once(input, name, forced, histogram, control, &stopped) {
        Err(e) => e,
        ok => return ok,
    };
    if stopped.get().is_none() {
        return Err(err);
    }
    // Stopped after the grid's last value: trailing content, read around (with a warning)
    // by reading the grid. Only such files pay for holding their cells.
    let header = crate::grid::read_header(input, name)?;
    let examine = |h: &Header, at| trailing::examine_input(input, name, h, at, control);
    crate::grid::accepted(err, stopped.get(), &header, name, control, &examine)?;
    let grid = crate::grid::read(input, name, forced, control)?;
    Ok(summarize_grid(&grid, histogram))
}

/// Statistics of a grid in memory, as [`summarize`] computes them from its text.
fn summarize_grid(grid: &Grid, histogram: Option<&HistogramSpec>) -> Summary {
    fn all<T: Value>(values: &[T], acc: &mut ChunkStats<'_>) {
        for &v in values {
            acc.push(v);
        }
    }
    let edges = histogram.map(HistogramSpec::edges);
    let mut acc = ChunkStats::new(
        grid.header.cells(),
        grid.nodata,
        histogram.zip(edges.as_deref()),
    );
    match &grid.data {
        GridData::Int32(v) => all(v, &mut acc),
        GridData::Float32(v) => all(v, &mut acc),
        GridData::Float64(v) => all(v, &mut acc),
    }
    acc.finish(grid.data.data_type())
}

/// [`summarize`] of the text as it is; a stop that may be at trailing content leaves its
/// offset in `stopped`.
fn summarize_once(
    input: Input<'_>,
    name: &str,
    forced: Option<DataType>,
    histogram: Option<&HistogramSpec>,
    control: &Control,
    stopped: &Cell<Option<u64>>,
) -> Result<Summary, Error> {
    if let Input::Path(path) = input {
        match WindowedFile::open(path, name, control)? {
            Opened::Windowed(file) => {
                let cells = file.header.cells();
                let fail = |s: Stop| {
                    stopped.set(s.trailing_at());
                    file.error(s, name, cells)
                };
                let end = file.body().end;
                let header = &file.header;
                let summary = file.survey(control).map_err(fail).and_then(|survey| {
                    summarize_surveyed(
                        &file, end, header, &survey, forced, histogram, control, fail,
                    )
                });
                return file.unless_changed(path, name, summary);
            }
            Opened::Whole(bytes) => {
                return summarize_once(
                    Input::Bytes(&bytes),
                    name,
                    forced,
                    histogram,
                    control,
                    stopped,
                )
            }
            // A FIFO or pipe can be read only once, and its data type is known only at its
            // end: its text is held, within the budget its header allows (so trailing
            // content, not read, stays an error: `stopped` is not told).
            Opened::NonRegular(file) => {
                let text = crate::source::load_stream(file, name, control)?;
                let ignored = Cell::new(None);
                return summarize_once(
                    Input::Bytes(&text),
                    name,
                    forced,
                    histogram,
                    control,
                    &ignored,
                );
            }
            Opened::Stream => {}
        }
    }
    if let Input::Bytes(text) = input {
        if !crate::source::is_gzip(text) {
            let (header, survey) = crate::grid::survey_text(text, name, control)?;
            let fail = |s: Stop| {
                stopped.set(s.trailing_at());
                stop_error(s, name, text, header.cells())
            };
            let whole = InMemory::new(text);
            return summarize_surveyed(
                &whole,
                text.len(),
                &header,
                &survey,
                forced,
                histogram,
                control,
                fail,
            );
        }
    }
    let header = crate::grid::read_header(input, name)?;
    let data_type = data_type_of(input, name, forced, &header)?;
    let as_type = match data_type {
        DataType::Int32 => summarize_as::<i32>,
        DataType::Float32 => summarize_as::<f32>,
        DataType::Float64 => summarize_as::<f64>,
    };
    as_type(input, name, forced, data_type, histogram, control, stopped)
}

/// What the chunks of one stretch of text share.
struct ChunkJob<'a, C: ?Sized> {
    text: &'a C,
    survey: &'a chunk::Survey,
    /// Values the grid still expects.
    left: u64,
    nodata: Option<f64>,
    /// How `*` tokens read (GRASS null cells).
    nulls: body::Nulls,
    histogram: Option<(&'a HistogramSpec, &'a [f64])>,
    data_type: DataType,
}

/// Statistics of every chunk of a surveyed stretch of text, in parallel, each chunk taking
/// (in order) only the values the grid still expects.
fn summarize_chunks<T: Value, C: ChunkText>(
    job: &ChunkJob<'_, C>,
    control: &Control,
) -> Result<Vec<Summary>, Stop> {
    let mut budgets = Vec::with_capacity(job.survey.counts.len());
    let mut left = job.left;
    for c in &job.survey.counts {
        let take = c.tokens.min(left);
        budgets.push(take);
        left -= take;
    }
    let summarize = |(range, &budget): (&std::ops::Range<usize>, &u64)| {
        if control.is_cancelled() {
            return Err(Stop::Cancelled);
        }
        let mut acc = ChunkStats::new(budget, job.nodata, job.histogram);
        job.text.with_chunk(range, |text, range, base| {
            parse_chunk::<T, _>(text, range, base, &job.nulls, &mut acc)
        })?;
        control.advance(chunk::parse_share(range.len()));
        Ok(acc.finish(job.data_type))
    };
    // A small text (a tile) runs right here, as in `body::survey`.
    let chunks = &job.survey.chunks;
    let results: Vec<Result<Summary, Stop>> = if !crate::scan::worth_parallel(chunks, control) {
        chunks.iter().zip(&budgets).map(summarize).collect()
    } else {
        chunks
            .par_iter()
            .zip(budgets.par_iter())
            .map(summarize)
            .collect()
    };
    chunk::earliest(results)
}

/// Statistics of a whole surveyed body whose text ends at offset `end`; `fail` turns a stop
/// into the caller's error.
#[allow(clippy::too_many_arguments)]
fn summarize_surveyed(
    text: &impl ChunkText,
    end: usize,
    header: &Header,
    survey: &chunk::Survey,
    forced: Option<DataType>,
    histogram: Option<&HistogramSpec>,
    control: &Control,
    fail: impl Fn(Stop) -> Error,
) -> Result<Summary, Error> {
    let data_type = resolve_data_type(forced, header, survey.float_marker());
    let edges = histogram.map(HistogramSpec::edges);
    let job = ChunkJob {
        text,
        survey,
        left: header.cells(),
        nodata: header.nodata_as_read(forced, data_type),
        nulls: body::Nulls::of(header, data_type),
        histogram: histogram.zip(edges.as_deref()),
        data_type,
    };
    let parts = match data_type {
        DataType::Int32 => summarize_chunks::<i32, _>(&job, control),
        DataType::Float32 => summarize_chunks::<f32, _>(&job, control),
        DataType::Float64 => summarize_chunks::<f64, _>(&job, control),
    }
    .map_err(&fail)?;
    let total = parts.iter().fold(
        Summary {
            data_type: Some(data_type),
            ..Summary::default()
        },
        |acc, p| acc.merge(p),
    );
    let seen = total.count + total.nodata_count;
    if seen < header.cells() {
        return Err(fail(Stop::Short(chunk::too_few(
            seen,
            header.cells(),
            end as u64,
        ))));
    }
    Ok(total)
}

fn summarize_as<T: Value>(
    input: Input<'_>,
    name: &str,
    forced: Option<DataType>,
    data_type: DataType,
    histogram: Option<&HistogramSpec>,
    control: &Control,
    stopped: &Cell<Option<u64>>,
) -> Result<Summary, Error> {
    let mut stream = BlockStream::open(input, name)?;
    let cells = stream.header.cells();
    let nodata = stream.header.nodata_as_read(forced, data_type);
    let nulls = body::Nulls::of(&stream.header, data_type);
    let edges = histogram.map(HistogramSpec::edges);
    let mut total = Summary {
        data_type: Some(data_type),
        ..Summary::default()
    };
    let mut seen = 0u64;
    while let Some(base) = stream.next_block()? {
        let block = stream.block();
        let survey = body::survey(block, 0..block.len(), control)
            .map_err(|s| stop(s, &stream, cells, stopped))?;
        let job = ChunkJob {
            text: &InMemory { text: block, base },
            survey: &survey,
            left: cells.saturating_sub(seen),
            nodata,
            nulls,
            histogram: histogram.zip(edges.as_deref()),
            data_type,
        };
        let parts = summarize_chunks::<T, _>(&job, control)
            .map_err(|s| stop(s, &stream, cells, stopped))?;
        for part in &parts {
            seen += part.count + part.nodata_count;
            total = total.merge(part);
        }
    }
    if seen < cells {
        let at = stream.position();
        return Err(Error::Parse(stream.locate(chunk::too_few(seen, cells, at))));
    }
    Ok(total)
}

fn stop(s: Stop, stream: &BlockStream<'_>, cells: u64, stopped: &Cell<Option<u64>>) -> Error {
    stopped.set(s.trailing_at());
    s.into_error(stream.name(), cells, |loc| stream.locate(loc))
}

/// The most histogram bins one call may ask for (each bin is a counter per chunk).
pub(crate) const MAX_BINS: usize = 1 << 20;

/// What to compute for a set of sources.
#[derive(Debug, Clone, Copy, Default)]
pub struct StatsOptions {
    /// Take values in this type instead of each grid's own.
    pub data_type: Option<DataType>,
    /// Number of histogram bins, if a histogram is wanted.
    pub histogram_bins: Option<usize>,
    /// Histogram range; `None` uses the combined min and max (a second pass).
    pub histogram_range: Option<(f64, f64)>,
}

/// Statistics of each source and of all of them together, and the histogram bins used. Sources are processed in
/// parallel (and each one in parallel chunks); the first failing source, in input order,
/// gives the error.
pub fn summarize_all(
    inputs: &[(Input<'_>, &str)],
    options: &StatsOptions,
    control: &Control,
) -> Result<(Vec<Summary>, Summary, Option<HistogramSpec>), Error> {
    let size: u64 = inputs
        .iter()
        .map(|(i, _)| crate::input::size_hint(*i))
        .sum();
    let passes = match (options.histogram_bins, options.histogram_range) {
        (Some(_), None) => 2,
        _ => 1,
    };
    control.fix_total(size * passes);
    let run = |spec: Option<&HistogramSpec>| -> Result<Vec<Summary>, Error> {
        inputs
            .par_iter()
            .map(|(input, name)| summarize(*input, name, options.data_type, spec, control))
            .collect::<Vec<_>>()
            .into_iter()
            .collect()
    };
    let combine = |parts: &[Summary]| parts.iter().fold(Summary::default(), |acc, s| acc.merge(s));
    let spec = match (options.histogram_bins, options.histogram_range) {
        (None, _) => None,
        (Some(0), _) => return Err(Error::Invalid("histogram_bins must be at least 1".into())),
        (Some(bins), _) if bins > MAX_BINS => {
            return Err(Error::Invalid(format!(
                "histogram_bins must be at most {MAX_BINS}, got {bins}"
            )))
        }
        (Some(bins), Some((low, high))) => {
            if !(low.is_finite() && high.is_finite() && low <= high) {
                return Err(Error::Invalid(format!(
                    "invalid histogram range ({low}, {high})"
                )));
            }
            if !(high - low).is_finite() {
                return Err(Error::Invalid(format!(
                    "histogram_range ({low:?}, {high:?}) is wider than a float64 can hold (its \
                     bin edges would be NaN); give a narrower range"
                )));
            }
            Some(HistogramSpec::new(bins, low, high))
        }
        (Some(bins), None) => {
            // Two passes: the range is the combined min and max.
            let first = run(None)?;
            let all = combine(&first);
            match (all.min, all.max) {
                (Some(low), Some(high)) if !(high - low).is_finite() => {
                    return Err(Error::Invalid(format!(
                        "the values span from {low:?} to {high:?}, wider than a float64 can hold \
                         (histogram bin edges would be NaN); give histogram_range"
                    )))
                }
                (Some(low), Some(high)) if low.is_finite() && high.is_finite() => {
                    Some(HistogramSpec::new(bins, low, high))
                }
                _ => Some(HistogramSpec::new(bins, 0.0, 1.0)),
            }
        }
    };
    let per = run(spec.as_ref())?;
    let total = combine(&per);
    Ok((per, total, spec))
}

/// Statistics of a block row of cells (row-major, `ncols` wide) as GDAL's
/// `ComputeStatistics` counts them (nodata and NaN cells left out), and, for each block of
/// `block` columns, whether it holds a cell that is not nodata: what a GeoTIFF writer needs of
/// each block row (the band statistics, and the blocks it may leave unwritten). Without a
/// nodata value every block holds data. Blocks are summarised in parallel and merged in
/// order, so the result does not depend on the number of threads.
pub fn summarize_block_row<T: Value>(
    cells: &[T],
    ncols: usize,
    block: usize,
    nodata: Option<f64>,
) -> (Summary, Vec<bool>) {
    let block = block.max(1);
    // Compared in the cells' type, as the cells were stored.
    let nodata = nodata.map(|v| T::from_f64(v).to_f64());
    let nrows = cells.len().checked_div(ncols).unwrap_or(0);
    let blocks: Vec<(Summary, bool)> = (0..ncols.div_ceil(block))
        .into_par_iter()
        .map(|b| {
            let columns = b * block..((b + 1) * block).min(ncols);
            let rows = (0..nrows).map(|row| &cells[row * ncols..][columns.clone()]);
            let (summary, nans) = summarize_rows(rows, nodata);
            // A NaN that is not the nodata value is data: a writer must keep it.
            let has_data = match nodata {
                None => true,
                Some(v) => summary.count > 0 || (nans > 0 && !v.is_nan()),
            };
            (summary, has_data)
        })
        .collect();
    let flags = blocks.iter().map(|(_, has)| *has).collect();
    let summary = blocks
        .into_iter()
        .fold(Summary::default(), |all, (s, _)| all.merge(&s));
    (summary, flags)
}

/// For each block of `block` columns of `cells` (row-major, `ncols` wide), whether it holds a
/// cell that is not nodata: the flags of [`summarize_block_row`] without the statistics, for
/// a writer whose statistics are added up elsewhere. Without a nodata value every block holds
/// data.
pub fn blocks_with_data<T: Value>(
    cells: &[T],
    ncols: usize,
    block: usize,
    nodata: Option<f64>,
) -> Vec<bool> {
    let block = block.max(1);
    let Some(v) = nodata.map(|v| T::from_f64(v).to_f64()) else {
        return vec![true; ncols.div_ceil(block)];
    };
    let nrows = cells.len().checked_div(ncols).unwrap_or(0);
    (0..ncols.div_ceil(block))
        .into_par_iter()
        .map(|b| {
            let columns = b * block..((b + 1) * block).min(ncols);
            !only_nodata(
                (0..nrows).map(|row| &cells[row * ncols..][columns.clone()]),
                v,
            )
        })
        .collect()
}

/// Whether every cell of `rows` is the nodata value `v` (already in the cells' type; NaN:
/// every cell is NaN). A NaN cell is not a non-NaN nodata value: it is data.
pub(crate) fn only_nodata<'a, T: Value>(mut rows: impl Iterator<Item = &'a [T]>, v: f64) -> bool {
    if v.is_nan() {
        rows.all(|row| all_lanes(row, |c| c.is_nan()))
    } else {
        let fill = T::from_f64(v);
        rows.all(|row| all_lanes(row, |c| c == fill))
    }
}

/// Lanes of independent sums: the adds of one lane do not wait for the others', so the loop
/// runs at the speed of memory rather than of one add's latency.
const LANES: usize = 8;

/// Statistics of cells in memory and the number of NaN cells among them, in two passes (the
/// mean, then the squared deviations from it: the most accurate variance); `nodata` already in
/// the cells' type.
fn summarize_rows<'a, T: Value>(
    rows: impl Iterator<Item = &'a [T]> + Clone,
    nodata: Option<f64>,
) -> (Summary, u64) {
    let total: u64 = rows.clone().map(|row| row.len() as u64).sum();
    let mut summary = Summary {
        nodata_count: total,
        ..Summary::default()
    };
    // Most blocks of a mosaic lie in the gaps between tiles: one cheap look settles them.
    if let Some(v) = nodata {
        if only_nodata(rows.clone(), v) {
            return (summary, if v.is_nan() { total } else { 0 });
        }
    }
    // NaN never equals a cell: with no nodata value (or a NaN one) only NaNs are left out.
    let nodata = nodata.unwrap_or(f64::NAN);
    let mut count = [0u64; LANES];
    let mut nans = [0u64; LANES];
    let mut sum = [0.0f64; LANES];
    let mut min = [f64::INFINITY; LANES];
    let mut max = [f64::NEG_INFINITY; LANES];
    for row in rows.clone() {
        for_lanes(row, |lane, value| {
            let x = value.to_f64();
            let nan = x.is_nan();
            let valid = !nan && x != nodata;
            nans[lane] += u64::from(nan);
            count[lane] += u64::from(valid);
            sum[lane] += if valid { x } else { 0.0 };
            let low = if valid { x } else { f64::INFINITY };
            let high = if valid { x } else { f64::NEG_INFINITY };
            min[lane] = if low < min[lane] { low } else { min[lane] };
            max[lane] = if high > max[lane] { high } else { max[lane] };
        });
    }
    let count: u64 = count.iter().sum();
    let nans: u64 = nans.iter().sum();
    summary.nodata_count = total - count;
    if count == 0 {
        return (summary, nans);
    }
    let sum: f64 = sum.iter().sum();
    let mean = sum / count as f64;
    let mut m2 = [0.0f64; LANES];
    for row in rows {
        for_lanes(row, |lane, value| {
            let x = value.to_f64();
            let d = if !x.is_nan() && x != nodata {
                x - mean
            } else {
                0.0
            };
            m2[lane] += d * d;
        });
    }
    summary.count = count;
    summary.sum = sum;
    summary.mean = mean;
    summary.sum_of_squared_deviations = m2.iter().sum();
    summary.min = min.into_iter().reduce(f64::min);
    summary.max = max.into_iter().reduce(f64::max);
    (summary, nans)
}

/// `f(lane, cell)` for every cell of `row`, lane by lane in groups of [`LANES`] (a fixed-size
/// group the compiler turns into vector instructions).
#[inline(always)]
fn for_lanes<T: Copy>(row: &[T], mut f: impl FnMut(usize, T)) {
    let groups = row.chunks_exact(LANES);
    let rest = groups.remainder();
    for group in groups {
        for (lane, &cell) in group.iter().enumerate() {
            f(lane, cell);
        }
    }
    for (lane, &cell) in rest.iter().enumerate() {
        f(lane, cell);
    }
}

/// Whether `test` holds for every cell of `row`, looking at whole groups of cells without
/// stopping inside one (which is what lets the compiler vectorize the test).
#[inline(always)]
fn all_lanes<T: Copy>(row: &[T], test: impl Fn(T) -> bool) -> bool {
    let groups = row.chunks_exact(LANES);
    let rest = groups.remainder();
    groups
        .into_iter()
        .all(|group| group.iter().fold(true, |all, &cell| all & test(cell)))
        && rest.iter().all(|&cell| test(cell))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_summary_from_elsewhere_is_checked() {
        let good = Summary {
            count: 2,
            sum: 3.0,
            min: Some(1.0),
            max: Some(2.0),
            mean: 1.5,
            sum_of_squared_deviations: 0.5,
            ..Summary::default()
        };
        assert_eq!(good.clone().checked().unwrap(), good);
        let reversed = Summary {
            min: Some(3.0),
            ..good.clone()
        };
        assert!(reversed.checked().is_err());
        let no_mean = Summary {
            mean: f64::NAN,
            ..good.clone()
        };
        assert!(no_mean.checked().is_err());
        let negative = Summary {
            sum_of_squared_deviations: -1.0,
            ..good.clone()
        };
        assert!(negative.checked().is_err());
        let empty = Summary {
            count: 0,
            nodata_count: 4,
            ..good
        };
        let empty = empty.checked().unwrap();
        assert_eq!((empty.min, empty.sum, empty.nodata_count), (None, 0.0, 4));
    }

    #[test]
    fn histograms_of_other_bins_are_not_merged() {
        let a = Summary {
            histogram: Some(vec![1, 2]),
            ..Summary::default()
        };
        let b = Summary {
            histogram: Some(vec![1, 2, 3]),
            ..Summary::default()
        };
        assert!(a.clone().merge_checked(&b).is_err());
        assert!(a.clone().merge_checked(&a).is_ok());
    }

    use super::*;

    #[test]
    fn matches_a_direct_computation() {
        let text = b"ncols 3\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 1\nNODATA_value -9\n1.5 -9 2\n4 nan 8\n";
        let s = summarize(Input::Bytes(text), "t", None, None, &Control::new()).unwrap();
        let vals = [1.5f64, 2.0, 4.0, 8.0];
        let mean = vals.iter().sum::<f64>() / 4.0;
        let m2: f64 = vals.iter().map(|v| (v - mean) * (v - mean)).sum();
        assert_eq!((s.count, s.nodata_count), (4, 2));
        assert_eq!((s.min, s.max, s.sum), (Some(1.5), Some(8.0), 15.5));
        assert!((s.mean - mean).abs() < 1e-12 && (s.sum_of_squared_deviations - m2).abs() < 1e-9);
        assert_eq!(s.data_type, Some(DataType::Float32));
    }

    #[test]
    fn histogram_like_numpy() {
        let spec = HistogramSpec {
            bins: 4,
            low: 0.0,
            high: 1.0,
        };
        let edges = spec.edges();
        let bins: Vec<_> = [0.0, 0.25, 0.5, 0.999, 1.0, 1.5]
            .iter()
            .map(|&x| spec.bin(x, &edges))
            .collect();
        assert_eq!(
            bins,
            vec![Some(0), Some(1), Some(2), Some(3), Some(3), None]
        );
    }

    #[test]
    fn truncated_and_extra() {
        // Room for six values (so not refused before reading), but only five.
        let short = b"ncols 3\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 2 3\n4 5   \n";
        match summarize(Input::Bytes(short), "t", None, None, &Control::new()) {
            Err(Error::Parse(e)) => assert_eq!((e.line, e.column), (8, 1), "{e}"),
            other => panic!("{other:?}"),
        }
        // Ragged rows with a value left over: the header is wrong.
        let long = b"ncols 3\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 2\n3 4\n";
        match summarize(Input::Bytes(long), "t", None, None, &Control::new()) {
            Err(Error::Parse(e)) => assert_eq!((e.line, e.column), (7, 3), "{e}"),
            other => panic!("{other:?}"),
        }
        // A complete row and a value left over: read with a warning, refused when strict.
        let stale = b"ncols 3\nnrows 1\nxllcorner 0\nyllcorner 0\ncellsize 1\n1 2 3\n4\n";
        let control = Control::new();
        let s = summarize(Input::Bytes(stale), "t", None, None, &control).unwrap();
        assert_eq!((s.count, control.take_warnings().len()), (3, 1));
        match summarize(Input::Bytes(stale), "t", None, None, &Control::strict()) {
            Err(Error::Parse(e)) => assert_eq!((e.line, e.column), (7, 1), "{e}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn block_row_summary_and_blocks_with_data() {
        // 2 rows of 5 columns in blocks of 2: data only in block 1, a NaN alone in block 2.
        let nd = -9.0f32;
        let cells = [nd, nd, 1.0, nd, f32::NAN, nd, nd, 4.0, 3.0, nd];
        let (s, flags) = summarize_block_row(&cells, 5, 2, Some(-9.0));
        assert_eq!(flags, vec![false, true, true]);
        assert_eq!((s.count, s.nodata_count), (3, 7));
        assert_eq!((s.min, s.max, s.mean), (Some(1.0), Some(4.0), 8.0 / 3.0));
        let mean = 8.0 / 3.0;
        let m2: f64 = [1.0f64, 4.0, 3.0]
            .iter()
            .map(|x| (x - mean) * (x - mean))
            .sum();
        assert!((s.sum_of_squared_deviations - m2).abs() < 1e-12);
        // A NaN nodata: NaN cells are nodata, and a block of them holds no data.
        let (s, flags) = summarize_block_row(&[f64::NAN, 2.0], 2, 1, Some(f64::NAN));
        assert_eq!((flags, s.count), (vec![false, true], 1));
        // No nodata value: every block holds data.
        let (_, flags) = summarize_block_row(&[0i32; 4], 4, 2, None);
        assert_eq!(flags, vec![true, true]);
    }

    #[test]
    fn blocks_with_data_are_the_block_rows_flags() {
        let nd = -9.0f32;
        let cells = [nd, nd, 1.0, nd, f32::NAN, nd, nd, 4.0, 3.0, nd];
        for nodata in [Some(-9.0), Some(f64::NAN), None] {
            let (_, flags) = summarize_block_row(&cells, 5, 2, nodata);
            assert_eq!(blocks_with_data(&cells, 5, 2, nodata), flags, "{nodata:?}");
        }
        assert_eq!(
            blocks_with_data(&[f64::NAN, 2.0], 2, 1, Some(f64::NAN)),
            vec![false, true]
        );
    }
}
