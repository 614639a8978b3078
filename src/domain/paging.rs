//! Long lists a page at a time: which page was asked for (from the URL, so links and the back
//! button keep it), and one page of the matching items with the totals a person needs.

use serde::{Deserialize, Serialize};

/// Rows per page unless the URL says otherwise.
pub const PAGE_SIZE: usize = 50;
/// The most rows one page may hold.
pub const MAX_PAGE_SIZE: usize = 500;

/// Which page of a list to show: 1-based, and how many rows a page holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    /// The page, from 1.
    pub page: usize,
    /// Rows per page.
    pub size: usize,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: 1,
            size: PAGE_SIZE,
        }
    }
}

impl PageRequest {
    /// Reads `page` and `size` as a URL gives them (empty: the first page, [`PAGE_SIZE`] rows).
    /// A bad value is an error naming its field and why.
    pub fn parse(page: &str, size: &str) -> Result<Self, (&'static str, String)> {
        let number = |field: &'static str, text: &str, default: usize| match text.trim() {
            "" => Ok(default),
            text => match text.parse::<usize>() {
                Ok(0) | Err(_) => Err((
                    field,
                    format!(
                        "{} is not a {field}: a whole number from 1",
                        crate::domain::quoted(text)
                    ),
                )),
                Ok(n) => Ok(n),
            },
        };
        let page = number("page", page, 1)?;
        let size = number("size", size, PAGE_SIZE)?;
        if size > MAX_PAGE_SIZE {
            return Err((
                "size",
                format!("{size} rows per page is too many: at most {MAX_PAGE_SIZE}"),
            ));
        }
        Ok(Self { page, size })
    }
}

/// One page of a list: its rows, where it is, and how many there are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The rows of this page, in order.
    pub items: Vec<T>,
    /// This page, from 1 (a page past the end shows the last one).
    pub page: usize,
    /// Rows per page.
    pub size: usize,
    /// How many rows match the search (over every page).
    pub matched: usize,
    /// How many rows there are before the search.
    pub total: usize,
}

impl<T> Page<T> {
    /// The page `request` asks for of the `matching` rows (out of `total`).
    pub fn of(matching: Vec<T>, total: usize, request: PageRequest) -> Self {
        let matched = matching.len();
        let pages = matched.div_ceil(request.size).max(1);
        let page = request.page.min(pages);
        let items = matching
            .into_iter()
            .skip((page - 1) * request.size)
            .take(request.size)
            .collect();
        Self {
            items,
            page,
            size: request.size,
            matched,
            total,
        }
    }

    /// The same page with each row mapped by `f` (only the rows shown are mapped).
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            page: self.page,
            size: self.size,
            matched: self.matched,
            total: self.total,
        }
    }

    /// How many pages the matching rows fill (at least one).
    pub fn pages(&self) -> usize {
        self.matched.div_ceil(self.size).max(1)
    }

    /// "Showing 51–100 of 120 matching (5,000 in all)", in words.
    pub fn summary(&self, noun: &str) -> String {
        let first = (self.page - 1) * self.size + 1;
        let last = first + self.items.len().saturating_sub(1);
        let (matched, total) = (thousands(self.matched), thousands(self.total));
        match (self.items.is_empty(), self.matched == self.total) {
            (true, true) => format!("No {noun}"),
            (true, false) => format!("No {noun} match ({total} in all)"),
            (false, true) => format!("{first}–{last} of {matched} {noun}"),
            (false, false) => {
                format!("{first}–{last} of {matched} matching {noun} ({total} in all)")
            }
        }
    }
}

/// A count with thousands separated: 5,000.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cut_the_matching_rows_and_say_where_they_are() {
        let rows: Vec<usize> = (1..=120).collect();
        let request = PageRequest::parse("2", "").expect("valid");
        let page = Page::of(rows.clone(), 5_000, request);
        assert_eq!(page.items.first(), Some(&51));
        assert_eq!(page.items.last(), Some(&100));
        assert_eq!(page.pages(), 3);
        assert_eq!(
            page.summary("external services"),
            "51–100 of 120 matching external services (5,000 in all)"
        );
        // Past the end: the last page (a list that shrank under a bookmark).
        let last = Page::of(rows, 120, PageRequest { page: 9, size: 50 });
        assert_eq!((last.page, last.items.len()), (3, 20));
        assert_eq!(last.summary("rows"), "101–120 of 120 rows");
        let none = Page::of(Vec::<usize>::new(), 7, PageRequest::default());
        assert_eq!((none.page, none.pages()), (1, 1));
        assert_eq!(none.summary("rows"), "No rows match (7 in all)");
    }

    #[test]
    fn bad_page_requests_name_their_field() {
        assert_eq!(PageRequest::parse("", ""), Ok(PageRequest::default()));
        assert_eq!(PageRequest::parse("0", "").map_err(|e| e.0), Err("page"));
        assert_eq!(PageRequest::parse("x", "").map_err(|e| e.0), Err("page"));
        assert_eq!(PageRequest::parse("1", "501").map_err(|e| e.0), Err("size"));
        assert_eq!(
            PageRequest::parse(" 3 ", "20"),
            Ok(PageRequest { page: 3, size: 20 })
        );
        assert_eq!(thousands(5000), "5,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
