// module gen
