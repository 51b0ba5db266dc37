//! 删除数据 (manual §9.2): how many rows each kind of data has, and the deletion of a kind
//! with the count the user confirmed (refused, deleting nothing, when the count has changed
//! since, so the confirmation always describes what is deleted).

use std::collections::BTreeMap;

use super::CrmError;
use crate::store::data_deletion::{self, DataKind, Deletion};
use crate::store::Store;

/// The number of rows of every kind, by code.
pub async fn counts(store: &Store) -> Result<BTreeMap<&'static str, u64>, CrmError> {
    Ok(store
        .call(|conn| {
            DataKind::ALL
                .into_iter()
                .map(|kind| Ok((kind.code(), data_deletion::count(conn, kind)?)))
                .collect()
        })
        .await?)
}

/// Deletes every row of `kind` if there are `confirmed` of them → how many were deleted.
pub async fn delete(store: &Store, kind: DataKind, confirmed: u64) -> Result<u64, CrmError> {
    let outcome = store
        .call(move |conn| data_deletion::delete_all(conn, kind, confirmed))
        .await?;
    match outcome {
        Deletion::Deleted(rows) => Ok(rows),
        Deletion::CountChanged { current } => Err(CrmError::CountChanged { current }),
    }
}
